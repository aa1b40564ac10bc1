#!/usr/bin/env bats
# dsim-status: the world as it is.

load helper
bats_require_minimum_version 1.5.0

# Every file under the state home with its checksum, to see what changed.
state_sums() {
	(cd "$DSIM_HOME" && find . -type f -print0 | sort -z |
	    xargs -0 sha256sum)
}

@test "status writes the world, then its instances, then its database nodes" {
	world

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(jq -r .kind <<<"$output" | uniq -c | awk '{print $1, $2}')" \
	    "1 world
6 instance
3 db.node"
	assert_equal "$stderr" ""
}

@test "status's world record is the one init wrote" {
	dsim-init --seed 7 --start "$START" >"$BATS_TEST_TMPDIR/init.jsonl"

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(records world)" "$(cat "$BATS_TEST_TMPDIR/init.jsonl")"
}

@test "status stamps every record with the world's clock and environment" {
	world

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(jq -r '[.ts, .env] | @tsv' <<<"$output" | sort -u)" \
	    "2026-01-01T00:00:00.000Z	production"
}

@test "status describes each instance" {
	world

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(records instance | jq -r '[.id, .version, .state, .port, .region, .ready] | @csv')" \
	    '"app-000001","1.0.0","ready",8080,"us-east-1",true
"app-000002","1.0.0","ready",8080,"us-east-1",true
"app-000003","1.0.0","ready",8080,"us-east-1",true
"app-000004","1.0.0","ready",8080,"us-east-1",true
"app-000005","1.0.0","ready",8080,"us-east-1",true
"app-000006","1.0.0","ready",8080,"us-east-1",true'
}

@test "status describes each database node" {
	world

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(records db.node | jq -r '[.name, .role, .state, .engine, .version, .region, .port] | @csv')" \
	    '"db-0","primary","running","postgresql","14","us-east-1",5432
"db-1","replica","running","postgresql","14","us-east-1",5432
"db-2","replica","running","postgresql","14","us-east-1",5432'
}

@test "status counts instances a crash took down" {
	world
	dsim-chaos inject crash --instances 2 >/dev/null

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(field world '[.states.ready, .states.crashed, .faults] | @csv')" "4,2,1"
	assert_equal "$(records instance | jq -r 'select(.state == "crashed") | .ready')" "false
false"
}

@test "status shows the version a deploy left" {
	world
	dsim-deploy --version 1.1.0 >/dev/null

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(field world '[.revision, .version, .rollout] | @csv')" '2,"1.1.0",'
	assert_equal "$(records instance | jq -r .version | sort -u)" "1.1.0"
}

@test "--history writes one revision record per revision" {
	world

	run --separate-stderr dsim-status --history
	assert_success
	assert_equal "$(jq -c '[.kind, .revision, .version, .cause, .status, .current]' <<<"$output")" \
	    '["revision",1,"1.0.0","init","succeeded",true]'
}

@test "--history marks only the current revision" {
	world
	dsim-deploy --version 1.1.0 >/dev/null

	run --separate-stderr dsim-status --history
	assert_success
	assert_equal "$(records revision | jq -c '[.revision, .version, .cause, .current]')" \
	    '[1,"1.0.0","init",false]
[2,"1.1.0","deploy",true]'
}

@test "--history refuses a value" {
	run --separate-stderr dsim-status --history=1
	assert_failure 64
	assert_equal "$stderr" "dsim-status: option '--history' takes no value
Try 'dsim-status --help' for more information."
}

@test "status without a world exits 66" {
	run --separate-stderr dsim-status
	assert_failure 66
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-status: production: no such world; create it with dsim-init --env production"
}

@test "status -e reads the named environment" {
	world -e development

	run --separate-stderr dsim-status -e development
	assert_success
	assert_equal "$(field world '[.env, .port] | @csv')" '"development",3000'
}

@test "status -e names the missing environment" {
	world

	run --separate-stderr dsim-status -e development
	assert_failure 66
	assert_equal "$stderr" "dsim-status: development: no such world; create it with dsim-init --env development"
}

@test "DSIM_ENV selects the environment for status" {
	world -e development

	DSIM_ENV=development run --separate-stderr dsim-status
	assert_success
	assert_equal "$(field world .env)" "development"
}

@test "status refuses an environment name that is not a name" {
	run --separate-stderr dsim-status -e ../x
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "dsim-status: --env: '../x' is not a valid name"
}

@test "--format text writes a table of the fleet" {
	world

	run --separate-stderr dsim-status --format text
	assert_success
	assert_regex "${lines[0]}" '^production '
	assert_line --regexp '^INSTANCE +VERSION +STATE +PORT +REGION$'
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -c '^app-00000[1-6] ')" 6
	refute_line --regexp '^\{'
}

@test "--format yaml is refused" {
	world

	run --separate-stderr dsim-status --format yaml
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "dsim-status: --format: 'yaml' is not json or text"
}

@test "-q writes nothing" {
	world

	run --separate-stderr dsim-status -q
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
}

@test "status refuses an operand" {
	run --separate-stderr dsim-status extra
	assert_failure 64
	assert_equal "$stderr" "dsim-status: unexpected argument 'extra'
Try 'dsim-status --help' for more information."
}

@test "status changes nothing in the state home" {
	world
	before=$(state_sums)

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(state_sums)" "$before"
}

@test "status refuses a DSIM_STATE naming a server" {
	world

	DSIM_STATE=postgresql://x run --separate-stderr dsim-status
	assert_failure 78
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-status: DSIM_STATE: only the embedded state store is available in this build"
}

@test "a failed write to stdout exits 74" {
	world

	run --separate-stderr bash -c 'dsim-status >/dev/full'
	assert_failure 74
	assert_equal "$stderr" "dsim-status: stdout: write error: No space left on device"
}

@test "a closed pipe ends status quietly" {
	world -n 10000

	run --separate-stderr bash -c \
	    'dsim-status | head -c 1 >/dev/null; echo "${PIPESTATUS[0]}"'
	assert_success
	assert_output 141
	assert_equal "$stderr" ""
}
