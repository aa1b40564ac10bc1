#!/usr/bin/env bats
# dsim-backup against a real PostgreSQL: a throwaway cluster made with
# initdb, filled with pgbench's tables and a table of awkward values,
# backed up, restored into fresh databases and compared table by table.

load helper
load pg
bats_require_minimum_version 1.5.0

setup_file() {
	pg_start
	pg_psql postgres -c "CREATE DATABASE src"
	PGPASSWORD=$PGPASS_SU "$PGBIN/pgbench" -q -i -s 1 -h 127.0.0.1 \
	    -p "$PGPORT" -U postgres src >/dev/null 2>&1
	pg_psql src <<'SQL'
CREATE SCHEMA "odd ""schema""";
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE "odd ""schema""".awkward (
	id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	t text, b bytea, j jsonb, js json, a text[], n numeric, f float8,
	ts timestamptz, iv interval, m mood,
	len integer GENERATED ALWAYS AS (length(t)) STORED
);
INSERT INTO "odd ""schema""".awkward (t, b, j, js, a, n, f, ts, iv, m)
VALUES
 (E'tab\there', '\x00ff5c0a0d'::bytea, '{"k": "v\n\t"}', '{"dup":1,"dup":2}',
  ARRAY['a,b', 'c"d', NULL, '{x}'], 1.5, 0.1, '2026-01-01 12:00+02',
  '1 day', 'ok'),
 (E'new\nline\\back\r\n', NULL, 'null', '[]', '{}', NULL, 'NaN',
  '-infinity', NULL, NULL),
 (NULL, '', '[1,2,{"x":null}]', 'null', ARRAY['ünïcødé ☕', E'\\N'], -0.0,
  1e308, 'epoch', '-3 hours', 'sad'),
 ('\N', E'\\x5c4e'::bytea, '"\\\\N"', '"\\u0000x"', ARRAY['\N'],
  123456789012345678901234567890.123456789, -0.0, '2000-01-01', '1 mon',
  'happy'),
 (repeat('wide ', 300000), decode(repeat('00ff', 200000), 'hex'), '{}',
  '{}', NULL, 0, 5e-324, now(), '0', 'ok');
CREATE INDEX awkward_left ON "odd ""schema""".awkward (left(t, 10));
CREATE TABLE measurement (at date NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE measurement_2025 PARTITION OF measurement
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE measurement_2026 PARTITION OF measurement
	FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO measurement SELECT d::date, 1 FROM generate_series(
	'2025-06-01'::date, '2026-06-01', '1 day') d;
CREATE TABLE orders (id bigserial PRIMARY KEY,
	aid int REFERENCES pgbench_accounts (aid), note text);
INSERT INTO orders (aid, note) SELECT g, 'n' || g FROM generate_series(1, 50) g;
CREATE VIEW balances AS SELECT bid, sum(abalance) FROM pgbench_accounts
	GROUP BY bid;
SQL
	pg_contents src >"$PGDIR/src.contents"
}

teardown_file() {
	pg_stop
}

setup() {
	export DSIM_HOME="$BATS_TEST_TMPDIR/state"
	unset DSIM_ENV DSIM_STATE XDG_STATE_HOME DSIM_BACKUP_REPO
	unset DSIM_BACKUP_SOURCE DSIM_BACKUP_COPY_TO DSIM_PG_DUMP
	REPO=$BATS_TEST_TMPDIR/repo
}

# A fresh, empty database: fresh NAME
fresh() {
	pg_psql postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
}

# The contents of a database must be those of src: same_as_src DB
same_as_src() {
	diff "$PGDIR/src.contents" <(pg_contents "$1")
}

newest() {
	dsim-backup list --repo "$REPO" | jq -r .id | tail -n 1
}

@test "create from a real server writes a backup record" {
	run --separate-stderr dsim-backup create --source "$PG_URL/src" \
	    --repo "$REPO"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(field backup .source)" \
	    "postgresql://postgres@127.0.0.1:$PGPORT/src"
	assert_regex "$(field backup .server_version)" '^PostgreSQL 15\.'
	assert_regex "$(field backup .snapshot)" '^[0-9A-F]+-[0-9A-F]+-[0-9]+$'
	assert_equal "$(field backup .tables)" 8
}

@test "a backup restores into a fresh database with the same contents" {
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" -q
	fresh dst1
	run --separate-stderr dsim-backup restore "$(newest)" --repo "$REPO" \
	    --target "$PG_URL/dst1"
	assert_success
	assert_equal "$(field backup.restore '[.target, .tables] |
	    join(" ")')" "postgresql://postgres@127.0.0.1:$PGPORT/dst1 8"
	same_as_src dst1
}

@test "--jobs 2 backs up the same contents" {
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" --jobs 2 -q
	fresh dst2
	dsim-backup restore "$(newest)" --repo "$REPO" \
	    --target "$PG_URL/dst2" >/dev/null
	same_as_src dst2
}

@test "awkward values come back byte for byte" {
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" \
	    --compression gzip -q
	fresh dst3
	dsim-backup restore "$(newest)" --repo "$REPO" \
	    --target "$PG_URL/dst3" >/dev/null
	q='SELECT id, md5(t), md5(b), j::text, js::text, a::text, n::text,
	    f::text, ts, iv, m, len FROM "odd ""schema""".awkward ORDER BY id'
	assert_equal "$(pg_psql dst3 -At -c "$q")" "$(pg_psql src -At -c "$q")"
	assert_equal "$(pg_psql dst3 -At -c \
	    "SELECT t = E'new\\nline\\\\back\\r\\n' FROM \"odd \"\"schema\"\"\".awkward
	    WHERE id = 2")" t
}

@test "sequences continue where they were" {
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" -q
	fresh dst4
	dsim-backup restore "$(newest)" --repo "$REPO" \
	    --target "$PG_URL/dst4" >/dev/null
	assert_equal "$(pg_psql dst4 -At -c \
	    "INSERT INTO orders (aid) VALUES (1) RETURNING id")" 51
}

@test "the backup is one snapshot while pgbench writes" {
	fresh busy
	PGPASSWORD=$PGPASS_SU "$PGBIN/pgbench" -q -i -s 1 -h 127.0.0.1 \
	    -p "$PGPORT" -U postgres busy >/dev/null 2>&1
	PGPASSWORD=$PGPASS_SU "$PGBIN/pgbench" -n -T 4 -c 2 -h 127.0.0.1 \
	    -p "$PGPORT" -U postgres busy >/dev/null 2>&1 &
	bench=$!
	sleep 1
	dsim-backup create --source "$PG_URL/busy" --repo "$REPO" --jobs 2 -q
	wait "$bench"
	fresh dst5
	dsim-backup restore "$(newest)" --repo "$REPO" \
	    --target "$PG_URL/dst5" >/dev/null
	run pg_psql dst5 -At -c "SELECT (SELECT sum(abalance) FROM
	    pgbench_accounts), (SELECT sum(bbalance) FROM pgbench_branches),
	    (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(delta)
	    FROM pgbench_history), (SELECT count(*) > 0 FROM pgbench_history)"
	assert_success
	IFS='|' read -r a b t h some <<<"$output"
	assert_equal "$some" t
	assert_equal "$a $b $t" "$h $h $h"
}

@test "the PG* variables select the server with --source pg" {
	PGHOST=127.0.0.1 PGPORT=$PGPORT PGUSER=postgres PGDATABASE=src \
	    PGPASSWORD=$PGPASS_SU run --separate-stderr dsim-backup create \
	    --source pg --repo "$REPO"
	assert_success
	assert_equal "$(field backup .source)" \
	    "host=127.0.0.1 port=$PGPORT dbname=src user=postgres"
}

@test "an unreachable server exits 69, its password not shown" {
	run --separate-stderr dsim-backup create --repo "$REPO" \
	    --source "postgresql://postgres:hunter2@127.0.0.1:1/src"
	assert_failure 69
	assert_equal "$stderr" "dsim-backup: postgresql://postgres@127.0.0.1:1/src: \
cannot connect: connection to server at \"127.0.0.1\", port 1 failed: \
Connection refused"
	assert_equal "$(ls -A "$REPO" | grep -vc '^\.lock$')" 0
}

@test "bad credentials exit 69, the password not shown" {
	run --separate-stderr dsim-backup create --repo "$REPO" \
	    --source "host=127.0.0.1 port=$PGPORT user=postgres \
password=hunter2 dbname=src"
	assert_failure 69
	assert_equal "$stderr" "dsim-backup: 'host=127.0.0.1 port=$PGPORT \
user=postgres dbname=src': cannot connect: connection to server at \
\"127.0.0.1\", port $PGPORT failed: FATAL:  password authentication failed \
for user \"postgres\""
}

@test "a password in a URI's query is not shown either" {
	run --separate-stderr dsim-backup create --repo "$REPO" \
	    --source "postgresql://127.0.0.1:1/src?user=postgres&\
password=hunter2&sslmode=disable"
	assert_failure 69
	refute_output --partial hunter2
	[[ $stderr != *hunter2* ]]
	url="postgresql://127.0.0.1:1/src?user=postgres&sslmode=disable"
	[[ $stderr == "dsim-backup: $url: "* ]]
}

@test "restore into a non-empty database without --clean exits 73" {
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" -q
	run --separate-stderr dsim-backup restore "$(newest)" --repo "$REPO" \
	    --target "$PG_URL/src"
	assert_failure 73
	assert_regex "$stderr" "^dsim-backup: postgresql://postgres@127\\.0\\.0\\.1:\
$PGPORT/src: database is not empty \\([0-9]+ objects\\); use --clean to \
replace its contents\$"
	same_as_src src
}

@test "restore --clean replaces what the target held" {
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" -q
	fresh dst6
	pg_psql dst6 -c "CREATE SCHEMA old; CREATE TABLE old.t (x int);
	    CREATE TABLE pgbench_accounts (x int)"
	run dsim-backup restore "$(newest)" --repo "$REPO" \
	    --target "$PG_URL/dst6" --clean
	assert_success
	same_as_src dst6
}

@test "a damaged archive is refused and the target stays empty" {
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" -q
	id=$(newest)
	size=$(stat -c %s "$REPO/$id.tar.zst")
	printf '\x55\x55' | dd of="$REPO/$id.tar.zst" bs=1 \
	    seek=$((size / 2)) conv=notrunc status=none
	fresh dst7
	run --separate-stderr dsim-backup restore "$id" --repo "$REPO" \
	    --target "$PG_URL/dst7"
	assert_failure 1
	assert_regex "$stderr" "^dsim-backup: $id: member .*; refusing to restore$"
	assert_equal "$(pg_contents dst7)" ""
}

@test "a failure on the server rolls the whole restore back" {
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" -q
	fresh dst10
	pg_psql postgres -c "ALTER DATABASE dst10 SET
	    default_transaction_read_only = on"
	run --separate-stderr dsim-backup restore "$(newest)" --repo "$REPO" \
	    --target "$PG_URL/dst10"
	assert_failure 1
	assert_equal "$stderr" "dsim-backup: postgresql://postgres@127.0.0.1:\
$PGPORT/dst10: pre-data: ERROR:  cannot execute CREATE SCHEMA in a \
read-only transaction"
	assert_equal "$(pg_contents dst10)" ""
}

@test "verify of a real backup checks every member" {
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" -q
	run dsim-backup verify --repo "$REPO" "$(newest)"
	assert_success
	assert_equal "$(field backup.verify .ok)" true
}

@test "without pg_dump create exits 69 and says what to install" {
	DSIM_PG_DUMP=$BATS_TEST_TMPDIR/no-pg_dump run --separate-stderr \
	    dsim-backup create --source "$PG_URL/src" --repo "$REPO"
	assert_failure 69
	assert_equal "$stderr" "dsim-backup: pg_dump: \
$BATS_TEST_TMPDIR/no-pg_dump: No such file or directory (install \
postgresql-client, or set DSIM_PG_DUMP)"
	assert_equal "$(ls -A "$REPO" | grep -vc '^\.lock$')" 0
}

@test "a simulated backup restores into PostgreSQL and backs up the same" {
	world --db-size 3000
	dsim-backup create --repo "$REPO" -q
	sim=$(newest)
	fresh dst8
	dsim-backup restore "$sim" --repo "$REPO" --target "$PG_URL/dst8" \
	    >/dev/null
	assert_equal "$(pg_psql dst8 -At -c "SELECT count(*) FROM users")" 600
	dsim-backup create --source "$PG_URL/dst8" --repo "$REPO" -q
	real=$(newest)
	assert_equal "$(jq -c '[.tables[] | {name, rows, bytes}]' \
	    "$REPO/$real.json" | jq -c 'sort_by(.name)')" \
	    "$(jq -c '[.tables[] | {name, rows, bytes}] | sort_by(.name)' \
	    "$REPO/$sim.json")"
}

@test "a real backup restores into the simulated database and back out" {
	world
	dsim-backup create --source "$PG_URL/src" --repo "$REPO" -q
	real=$(newest)
	dsim-backup restore "$real" --repo "$REPO" --target sim --clean \
	    >/dev/null
	dsim-init --seed 7 --start 2030-01-01T00:00:00Z >/dev/null 2>&1 || true
	dsim-backup create --repo "$REPO" -q
	sim=$(newest)
	assert_equal "$(jq -c '[.members[] | select(.name | startswith("data/"))
	    | .sha256]' "$REPO/$sim.json")" \
	    "$(jq -c '[.members[] | select(.name | startswith("data/"))
	    | .sha256]' "$REPO/$real.json")"
	fresh dst9
	dsim-backup restore "$sim" --repo "$REPO" --target "$PG_URL/dst9" \
	    >/dev/null
	same_as_src dst9
}
