#!/usr/bin/env bats
# dsim-init: a world from an environment's template.

load helper
bats_require_minimum_version 1.5.0

# Use a copy of the production template changed by a jq filter:
# template FILTER
template() {
	mkdir -p "$BATS_TEST_TMPDIR/share/environments"
	jq "$1" "$DSIM_DATADIR/environments/production.json" \
	    >"$BATS_TEST_TMPDIR/share/environments/production.json"
	export DSIM_DATADIR="$BATS_TEST_TMPDIR/share"
}

# Run dsim-init on a broken template and check the diagnostic:
# refused_template REASON
refused_template() {
	run --separate-stderr dsim-init
	assert_failure 78
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-init: production: $1"
	[ ! -e "$DSIM_HOME/production/world.json" ]
}

@test "init writes one world record stamped with the start time" {
	run --separate-stderr dsim-init --seed 7 --start "$START"
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_equal "$(field world .ts)" "2026-01-01T00:00:00.000Z"
	assert_equal "$(field world .env)" "production"
	assert_equal "$stderr" ""
}

@test "init makes a production world from its template" {
	run --separate-stderr dsim-init --seed 7 --start "$START"
	assert_success
	run jq -c '[.revision, .version, .replicas, .instances, .states,
	    .faults, .db_nodes, .strategy, .port, .regions, .rollout]' \
	    <<<"$output"
	assert_output '[1,"1.0.0",6,6,{"starting":0,"ready":6,"failed":0,"crashed":0},0,3,"rolling",8080,["us-east-1"],null]'
}

@test "production has a PostgreSQL 14 primary and two replicas" {
	world

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(records db.node | jq -c '[.name, .role, .engine, .version]')" \
	    '["db-0","primary","postgresql","14"]
["db-1","replica","postgresql","14"]
["db-2","replica","postgresql","14"]'
}

@test "init makes a development world with -e development" {
	run --separate-stderr dsim-init -e development --start "$START"
	assert_success
	run jq -c '[.env, .replicas, .instances, .db_nodes, .strategy, .port,
	    .regions]' <<<"$output"
	assert_output '["development",1,1,1,"recreate",3000,["local"]]'
}

@test "DSIM_ENV selects the environment when -e is absent" {
	DSIM_ENV=development run --separate-stderr dsim-init --start "$START"
	assert_success
	assert_equal "$(field world .env)" "development"
	[ -f "$DSIM_HOME/development/world.json" ]
	[ ! -e "$DSIM_HOME/production" ]
}

@test "-e overrides DSIM_ENV" {
	DSIM_ENV=development run --separate-stderr dsim-init -e production \
	    --start "$START"
	assert_success
	assert_equal "$(field world .env)" "production"
}

@test "-n sets the number of instances" {
	run --separate-stderr dsim-init -n 3 --start "$START"
	assert_success
	assert_equal "$(field world '[.replicas, .instances, .states.ready] | @csv')" "3,3,3"
}

@test "--instances refuses 0" {
	run --separate-stderr dsim-init --instances 0
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "dsim-init: --instances: 0 is out of range (1 to 10000000)"
	[ ! -e "$DSIM_HOME/production" ]
}

@test "--instances refuses more than ten million" {
	run --separate-stderr dsim-init --instances 10000001
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "dsim-init: --instances: 10000001 is out of range (1 to 10000000)"
}

@test "--instances refuses what is not a whole number" {
	run --separate-stderr dsim-init --instances abc
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "dsim-init: --instances: 'abc' is not a whole number"
}

@test "--seed refuses what is not a whole number" {
	run --separate-stderr dsim-init --seed x
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "dsim-init: --seed: 'x' is not a whole number"
}

@test "--start with an offset is kept in UTC" {
	run --separate-stderr dsim-init --start 2026-01-01T01:00:00+01:00
	assert_success
	assert_equal "$(field world .ts)" "2026-01-01T00:00:00.000Z"
}

@test "--start keeps milliseconds" {
	run --separate-stderr dsim-init --start 2026-01-01T00:00:00.5Z
	assert_success
	assert_equal "$(field world .ts)" "2026-01-01T00:00:00.500Z"
}

@test "--start refuses what is not an RFC 3339 time" {
	run --separate-stderr dsim-init --start yesterday
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "dsim-init: --start: 'yesterday' is not an RFC 3339 time"
}

@test "--start refuses a time without an offset" {
	run --separate-stderr dsim-init --start 2026-01-01T00:00:00
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "dsim-init: --start: '2026-01-01T00:00:00' is not an RFC 3339 time"
}

@test "--start refuses a day the month does not have" {
	run --separate-stderr dsim-init --start 2026-02-30T00:00:00Z
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "dsim-init: --start: '2026-02-30T00:00:00Z' is not an RFC 3339 time"
}

@test "--start refuses a missing value" {
	run --separate-stderr dsim-init --start
	assert_failure 64
	assert_equal "$stderr" "dsim-init: option '--start' needs a value
Try 'dsim-init --help' for more information."
}

@test "init refuses to replace an existing world" {
	world
	cp "$DSIM_HOME/production/world.json" "$BATS_TEST_TMPDIR/world.json"
	cp "$DSIM_HOME/production/journal.jsonl" "$BATS_TEST_TMPDIR/journal.jsonl"

	run --separate-stderr dsim-init --seed 8 -n 2
	assert_failure 73
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-init: production: a world exists already; use --force to replace it"
	cmp "$BATS_TEST_TMPDIR/world.json" "$DSIM_HOME/production/world.json"
	cmp "$BATS_TEST_TMPDIR/journal.jsonl" "$DSIM_HOME/production/journal.jsonl"
}

@test "--force replaces the world and keeps the journal" {
	world -n 3

	run --separate-stderr dsim-init --force --start "$START"
	assert_success
	assert_equal "$(field world .replicas)" 6
	run jq -c .seq "$DSIM_HOME/production/journal.jsonl"
	assert_output "1
2"
	run dsim-status
	assert_equal "$(field world .replicas)" 6
}

@test "--force refuses a value" {
	run --separate-stderr dsim-init --force=1
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-init: option '--force' takes no value
Try 'dsim-init --help' for more information."
}

@test "init refuses an environment without a template" {
	run --separate-stderr dsim-init --env staging
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "dsim-init: --env: no template for environment 'staging' (production or development)"
	[ ! -e "$DSIM_HOME/staging" ]
}

@test "init refuses an environment name that is not a name" {
	run --separate-stderr dsim-init --env ../x
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "dsim-init: --env: '../x' is not a valid name"
	[ ! -e "$DSIM_HOME" ]
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "init refuses a DSIM_ENV that is not a name" {
	DSIM_ENV=../x run --separate-stderr dsim-init
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "dsim-init: DSIM_ENV: '../x' is not a valid name"
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "init refuses an operand" {
	run --separate-stderr dsim-init extra
	assert_failure 64
	assert_equal "$stderr" "dsim-init: unexpected argument 'extra'
Try 'dsim-init --help' for more information."
}

@test "-q writes no records" {
	run --separate-stderr dsim-init -q --start "$START"
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	dsim-status >/dev/null
}

@test "-v says what was created on stderr" {
	run --separate-stderr dsim-init -v --start "$START"
	assert_success
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^dsim-init: production: .+'
	assert_equal "$(records world | wc -l)" 1
}

@test "--format text writes the record for a human" {
	run --separate-stderr dsim-init --format text --start "$START"
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_regex "${lines[0]}" '^2026-01-01T00:00:00\.000Z world +clock=[^ ]+ created=[^ ]+ revision=1 '
}

@test "--format refuses anything but json or text" {
	run --separate-stderr dsim-init --format yaml
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "dsim-init: --format: 'yaml' is not json or text"
	[ ! -e "$DSIM_HOME" ]
}

@test "the state home is XDG_STATE_HOME/dsim when DSIM_HOME is unset" {
	unset DSIM_HOME
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/xdg"
	export HOME="$BATS_TEST_TMPDIR/home"

	run --separate-stderr dsim-init -q
	assert_success
	[ -f "$XDG_STATE_HOME/dsim/production/world.json" ]
	[ ! -e "$HOME" ]
}

@test "the state home is ~/.local/state/dsim without DSIM_HOME or XDG_STATE_HOME" {
	unset DSIM_HOME
	export HOME="$BATS_TEST_TMPDIR/home"

	run --separate-stderr dsim-init -q
	assert_success
	[ -f "$HOME/.local/state/dsim/production/world.json" ]
}

@test "an empty DSIM_HOME counts as unset" {
	export DSIM_HOME=""
	export HOME="$BATS_TEST_TMPDIR/home"

	run --separate-stderr dsim-init -q
	assert_success
	[ -f "$HOME/.local/state/dsim/production/world.json" ]
}

@test "a relative XDG_STATE_HOME is ignored" {
	unset DSIM_HOME
	export XDG_STATE_HOME="relative"
	export HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR"

	run --separate-stderr dsim-init -q
	assert_success
	[ -f "$HOME/.local/state/dsim/production/world.json" ]
	[ ! -e "$BATS_TEST_TMPDIR/relative" ]
}

@test "init without any state home is refused as bad configuration" {
	if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null; then
		skip "needs root and setpriv to run as a user with no home"
	fi
	unset DSIM_HOME HOME

	run --separate-stderr setpriv --reuid=54321 --regid=54321 \
	    --clear-groups "$DSIM_BINDIR/dsim-init"
	assert_failure 78
	assert_equal "$stderr" "dsim-init: DSIM_HOME: no state directory: set DSIM_HOME or HOME"
}

@test "DSIM_STATE naming a server is refused as bad configuration" {
	DSIM_STATE=postgresql://x run --separate-stderr dsim-init
	assert_failure 78
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-init: DSIM_STATE: only the embedded state store is available in this build"
	[ ! -e "$DSIM_HOME" ]
}

@test "DSIM_STATE=embedded names the default store" {
	DSIM_STATE=embedded run --separate-stderr dsim-init -q
	assert_success
	[ -f "$DSIM_HOME/production/world.json" ]
}

@test "init refuses a template that is not JSON" {
	mkdir -p "$BATS_TEST_TMPDIR/share/environments"
	printf '{"app":\n' >"$BATS_TEST_TMPDIR/share/environments/production.json"
	export DSIM_DATADIR="$BATS_TEST_TMPDIR/share"

	run --separate-stderr dsim-init
	assert_failure 78
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^dsim-init: $DSIM_DATADIR/environments/production\\.json:2:[0-9]+: .+\$"
}

@test "init refuses a template that is not an object" {
	template '[1]'

	run --separate-stderr dsim-init
	assert_failure 78
	assert_equal "$stderr" "dsim-init: $DSIM_DATADIR/environments/production.json: a template must be a JSON object"
}

@test "init refuses a template without app and deploy" {
	template 'del(.app)'
	refused_template 'an environment needs "app" and "deploy" objects'
}

@test "init refuses a template whose port is not a port" {
	template '.app.port = 0'
	refused_template 'app.port is not a port number'
}

@test "init refuses a template with an unknown strategy" {
	template '.deploy.strategy = "blue-green"'
	refused_template 'deploy.strategy must be rolling or recreate'
}

@test "init refuses a template whose surge is not an amount" {
	template '.deploy.max_surge = "lots"'
	refused_template 'deploy.max_surge is not a count or a percentage'
}

@test "init refuses a template with no capacity" {
	template '.app.capacity_rps = 0'
	refused_template 'app capacity and times must be positive'
}

@test "init refuses a template whose initial version is not SemVer" {
	template '.app.initial_version = "one"'
	refused_template 'app.initial_version is not a version'
}

@test "init refuses a template with no instances" {
	template '.app.instances = 0'
	refused_template 'app.instances must be from 1 to 10000000'
}

@test "init refuses a template with no regions" {
	template '.regions = []'
	refused_template 'regions must list one to eight regions'
}

@test "init refuses a template whose region is not a name" {
	template '.regions = ["us-east-1", 7]'
	refused_template 'regions[1] is not a region name'
}
