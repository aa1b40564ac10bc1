#ifndef DSIM_RULE_H
#define DSIM_RULE_H

#include <regex.h>
#include <stddef.h>

#include <jansson.h>

#include "clock.h"
#include "error.h"

enum dsim_rule_op { DSIM_RULE_GT, DSIM_RULE_GE, DSIM_RULE_LT, DSIM_RULE_LE,
	DSIM_RULE_EQ, DSIM_RULE_NE };
enum dsim_rule_match { DSIM_MATCH_EQ, DSIM_MATCH_NE, DSIM_MATCH_RE,
	DSIM_MATCH_NRE };

/* A label matcher, as PromQL has them: =, !=, =~ and !~ (anchored). */
struct dsim_matcher {
	char		*label;
	int		 op;		/* enum dsim_rule_match */
	char		*value;
	regex_t		 re;
};

/* A series' labels: pairs of name and value. */
struct dsim_labels {
	size_t		 n;
	const char	*key[32];
	const char	*val[32];
};

enum dsim_rule_type { DSIM_RULE_THRESHOLD, DSIM_RULE_ANOMALY };

/* One alerting rule of a rules file. */
struct dsim_rule {
	char		*name;		/* the alertname */
	int		 type;		/* enum dsim_rule_type */
	char		*metric;
	struct dsim_matcher *m;
	size_t		 nm;
	int		 op;		/* enum dsim_rule_op */
	double		 threshold;
	dsim_ms		 hold;		/* "for" */
	size_t		 window;	/* anomaly: samples of the past kept */
	size_t		 min_samples;	/* anomaly: needed before judging */
	double		 z;		/* anomaly: the robust z-score limit */
	json_t		*labels;	/* severity and the rule's labels */
	json_t		*annotations;	/* templates */
};

/* A rules file: its rules and its notification settings. */
struct dsim_rules {
	struct dsim_rule *r;
	size_t		 n;
	int		 anomaly;	/* anomaly rules are in force */
	json_t		*notify;	/* the file's "notify", or NULL */
};

int	 dsim_rule_load(struct dsim_rules *, const char *, struct dsim_error *);
void	 dsim_rule_free(struct dsim_rules *);
int	 dsim_rule_selects(const struct dsim_rule *, const char *,
	    const struct dsim_labels *);
int	 dsim_rule_holds(const struct dsim_rule *, double);
double	 dsim_rule_zscore(const double *, size_t, double, double *);
char	*dsim_rule_render(const char *, const struct dsim_labels *, double,
	    const char **);

#endif
