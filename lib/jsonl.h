#ifndef DSIM_JSONL_H
#define DSIM_JSONL_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "clock.h"
#include "error.h"

#define DSIM_REC_DEPTH	8

/*
 * One record being built: JSON text written straight into a buffer, so
 * that a hundred thousand records cost no allocation each.
 */
struct dsim_rec {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 depth;
	int		 count[DSIM_REC_DEPTH];	/* members so far, per level */
};

/* Where an operation's records go: the program decides. */
struct dsim_sink {
	int		(*put)(struct dsim_sink *, const struct dsim_rec *);
	int		(*flush)(struct dsim_sink *);
};

enum dsim_format {
	DSIM_FORMAT_JSON,
	DSIM_FORMAT_TEXT
};

/* The sink that writes to a stream: JSON Lines, or a line of text each. */
struct dsim_out {
	struct dsim_sink sink;
	FILE		*fp;
	int		 format;	/* enum dsim_format */
	int		 quiet;		/* -q: records are dropped */
	int		 failed;	/* a write failed */
};

/* Reads one JSON record per line, counting lines for messages. */
struct dsim_jsonl_reader {
	FILE		*fp;
	const char	*name;		/* "stdin" or the file's name */
	size_t		 line;
	char		*buf;
	size_t		 cap;
};

void	 dsim_rec_begin(struct dsim_rec *, const char *, dsim_ms,
	    const char *);
void	 dsim_rec_str(struct dsim_rec *, const char *, const char *);
void	 dsim_rec_int(struct dsim_rec *, const char *, int64_t);
void	 dsim_rec_num(struct dsim_rec *, const char *, double);
void	 dsim_rec_bool(struct dsim_rec *, const char *, int);
void	 dsim_rec_time(struct dsim_rec *, const char *, dsim_ms);
void	 dsim_rec_json(struct dsim_rec *, const char *, const json_t *);
void	 dsim_rec_open(struct dsim_rec *, const char *);
void	 dsim_rec_close(struct dsim_rec *);
void	 dsim_rec_end(struct dsim_rec *);
void	 dsim_rec_free(struct dsim_rec *);
int	 dsim_rec_put(struct dsim_sink *, struct dsim_rec *);

void	 dsim_out_init(struct dsim_out *, FILE *, int);
int	 dsim_out_close(struct dsim_out *, struct dsim_error *);
int	 dsim_out_format(const char *, int *, struct dsim_error *);

void	 dsim_jsonl_open(struct dsim_jsonl_reader *, FILE *, const char *);
int	 dsim_jsonl_read(struct dsim_jsonl_reader *, json_t **,
	    struct dsim_error *);
void	 dsim_jsonl_close(struct dsim_jsonl_reader *);

#endif
