# Throwaway PostgreSQL clusters for the backup tests and benchmark: made
# with initdb in a temporary directory, run as an unprivileged user (the
# server refuses root) on a free loopback port, stopped at the end.
#
#   pg_start          sets PGDIR, PGPORT, PGBIN, PGPASS_SU and PG_URL
#   pg_stop           stops the cluster and removes its directory
#   pg_psql DB ARGS   psql as the superuser over TCP

PGBIN=$(pg_config --bindir 2>/dev/null) || PGBIN=
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
PGPASS_SU=s3cret-pw

# Run a command as the cluster's owner: postgres when we are root.
pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# A port nothing listens on, below the kernel's range for outgoing
# connections (32768 and up) and apart from servers.bash's: pg_free_port N
pg_free_port() {
	local p=$((11000 + ($$ * 7 + $1 * 101) % 9000))
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}

pg_start() {
	if [ ! -x "$PGBIN/initdb" ]; then
		echo "pg.bash: no initdb in $PGBIN (install postgresql)" >&2
		return 1
	fi
	PGDIR=$(mktemp -d /tmp/dsim-pg.XXXXXX)
	chmod 755 "$PGDIR"
	[ "$(id -u)" -ne 0 ] || chown postgres "$PGDIR"
	echo "$PGPASS_SU" > "$PGDIR/pw"
	chmod 644 "$PGDIR/pw"
	pg_as_owner "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -E UTF8 \
	    --locale=C --auth-local=trust --auth-host=scram-sha-256 \
	    --pwfile="$PGDIR/pw" >"$PGDIR/initdb.log" 2>&1 || {
		cat "$PGDIR/initdb.log" >&2; return 1; }
	cat >>"$PGDIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGDIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 1GB
include_if_exists = 'port.conf'
CONF
	# Another program may take the port between the check and the start:
	# then try the next one.
	local try
	for try in 1 2 3 4 5; do
		PGPORT=$(pg_free_port "$try")
		echo "port = $PGPORT" >"$PGDIR/data/port.conf"
		pg_as_owner "$PGBIN/pg_ctl" -D "$PGDIR/data" \
		    -l "$PGDIR/server.log" -w -t 60 start >/dev/null && break
		grep -q "Address already in use" "$PGDIR/server.log" || try=5
		[ "$try" -lt 5 ] || { cat "$PGDIR/server.log" >&2; return 1; }
	done
	PG_URL="postgresql://postgres:$PGPASS_SU@127.0.0.1:$PGPORT"
	export PGDIR PGPORT PGBIN PG_URL
}

pg_stop() {
	[ -n "${PGDIR:-}" ] || return 0
	pg_as_owner "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop \
	    >/dev/null 2>&1
	rm -rf "$PGDIR"
}

pg_psql() {
	local db=$1
	shift
	PGPASSWORD=$PGPASS_SU "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
	    -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$db" "$@"
}

# One line per user table: its name, row count and the MD5 of its rows in
# order; then the indexes, constraints and sequence positions.  Two
# databases with the same contents print the same lines.
pg_contents() {
	local db=$1 t
	pg_psql "$db" -At -c "SELECT format('%I.%I', n.nspname, c.relname)
	    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	    WHERE c.relkind = 'r' AND n.nspname <> 'information_schema'
	    AND n.nspname !~ '^pg_' ORDER BY 1" |
	while IFS= read -r t; do
		pg_psql "$db" -At -c "SELECT '$t', count(*),
		    md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text),
		    '')) FROM $t x" </dev/null
	done
	pg_psql "$db" -At -c "SELECT schemaname, tablename, indexdef
	    FROM pg_indexes WHERE schemaname !~ '^pg_'
	    AND schemaname <> 'information_schema' ORDER BY 1, 2, 3" </dev/null
	pg_psql "$db" -At -c "SELECT conrelid::regclass, conname,
	    pg_get_constraintdef(oid) FROM pg_constraint
	    WHERE connamespace::regnamespace::text !~ '^pg_'
	    AND connamespace::regnamespace::text <> 'information_schema'
	    ORDER BY 1::text, 2" </dev/null
	pg_psql "$db" -At -c "SELECT schemaname, sequencename, last_value
	    FROM pg_sequences ORDER BY 1, 2" </dev/null
}
