#!/usr/bin/env bats
# End to end: releases good and bad, rollbacks, a concurrent deploy, a
# deploy killed half way, and the determinism of the whole.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	if [[ -n ${SLOW-} ]]; then
		kill "$SLOW" 2>/dev/null || true
		wait "$SLOW" 2>/dev/null || true
	fi
}

# Start a paced deploy of 2.0.0 over 100 instances (about 3.5 s of wall
# time) in the background, its pid in SLOW.
slow_deploy() {
	world -n 100
	dsim-deploy --version 2.0.0 --max-unavailable 10% --speed 10 \
	    >"$BATS_TEST_TMPDIR/slow.out" 2>"$BATS_TEST_TMPDIR/slow.err" 3>&- &
	SLOW=$!
}

# Wait until a file has a line matching a pattern: wait_for PATTERN FILE
wait_for() {
	local i

	for ((i = 0; i < 250; i++)); do
		grep -qs -- "$1" "$2" && return 0
		sleep 0.02
	done
	echo "timed out waiting for $1 in $2" >&2
	return 1
}

# Kill the paced deploy with SIGKILL once it has written its first step
# (written only after the step is in the journal), well before its end.
kill_slow_deploy() {
	slow_deploy
	wait_for '"kind":"deploy.step"' "$BATS_TEST_TMPDIR/slow.out"
	kill -9 "$SLOW"
	wait "$SLOW" || true
	SLOW=
}

# How many instances run each version, in $output: fleet
fleet() {
	records instance | jq -r '"\(.version) \(.state)"' | sort | uniq -c |
	    awk '{print $1, $2, $3}'
}

# A good release, then a bad one rolled back automatically.
good_then_bad() {
	world
	dsim-deploy --version 1.1.0 >/dev/null
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	dsim-deploy --version 2.0.0 >/dev/null 2>&1 || true
}

# The whole story, its records to stdout: story SEED
story() {
	dsim-init --seed "$1" --start "$START"
	dsim-deploy --version 1.1.0
	dsim-chaos inject bad-release --version 2.0.0
	dsim-deploy --version 2.0.0 || true
	dsim-rollback
	dsim-status
	dsim-status --history
}

@test "a good release rolls out keeping capacity and losing no requests" {
	world

	run --separate-stderr dsim-deploy --version 1.1.0
	assert_success
	assert_equal "$(field deploy.result '[.status, .to_version] | @csv')" '"succeeded","1.1.0"'
	assert [ "$(field deploy.result .min_available)" -ge 5 ]
	assert_equal "$(field deploy.result .failed_requests)" 0
	assert_equal "$(records deploy.step | jq -s 'map(.min_ready) | min >= 5')" true
	run dsim-status
	assert_equal "$(fleet)" "6 1.1.0 ready"
}

@test "a bad release is rolled back automatically" {
	world
	dsim-deploy --version 1.1.0 >/dev/null
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null

	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 1
	assert_equal "$(field deploy.result '[.status, .to_version] | @csv')" '"rolled_back","2.0.0"'
	assert_regex "${stderr_lines[-1]}" '^dsim-deploy: production: deploy 2\.0\.0 rolled back: .+'
	run dsim-status
	assert_equal "$(field world .version)" "1.1.0"
	assert_equal "$(fleet)" "6 1.1.0 ready"
}

@test "a manual rollback after the automatic one returns to the release before" {
	good_then_bad

	run --separate-stderr dsim-rollback
	assert_success
	assert_equal "$(field deploy.result '[.operation, .status, .to_version] | @csv')" \
	    '"rollback","succeeded","1.0.0"'
	run dsim-status
	assert_equal "$(field world .version)" "1.0.0"
	assert_equal "$(fleet)" "6 1.0.0 ready"
}

@test "a deploy is refused while another runs" {
	slow_deploy
	wait_for "^dsim-deploy (pid $SLOW, " "$DSIM_HOME/production.lock"

	run --separate-stderr dsim-deploy --version 3.0.0
	assert_failure 75
	assert_equal "$output" ""
	assert_regex "$stderr" "^dsim-deploy: production: world is locked by dsim-deploy \\(pid $SLOW, "
}

@test "a deploy killed half way leaves a readable, mixed world" {
	kill_slow_deploy

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(field world '.rollout | [.operation, .to_version] | @csv')" '"deploy","2.0.0"'
	assert [ "$(records instance | jq -s 'map(select(.version == "1.0.0")) | length')" -gt 0 ]
	assert [ "$(records instance | jq -s 'map(select(.version == "2.0.0")) | length')" -gt 0 ]
}

@test "a deploy after a killed one completes the rollout" {
	kill_slow_deploy

	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(field deploy.result .status)" "succeeded"
	run dsim-status
	assert_equal "$(field world '[.version, .instances, .rollout] | @csv')" '"2.0.0",100,'
	assert_equal "$(fleet)" "100 2.0.0 ready"
}

@test "a deploy taking over from a killed one says so" {
	kill_slow_deploy

	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$stderr" "dsim-deploy: production: taking over from an interrupted rollout of revision 2"
}

@test "the killed deploy's revision is recorded as interrupted" {
	kill_slow_deploy
	dsim-deploy --version 2.0.0 >/dev/null 2>&1

	run --separate-stderr dsim-status --history
	assert_success
	assert_equal "$(records revision | jq -c '[.revision, .version, .status]')" \
	    '[1,"1.0.0","succeeded"]
[2,"2.0.0","interrupted"]
[3,"2.0.0","succeeded"]'
}

@test "a rollback after a killed deploy returns to the release before" {
	kill_slow_deploy

	run --separate-stderr dsim-rollback
	assert_success
	assert_equal "$(field deploy.result '[.status, .to_version] | @csv')" '"succeeded","1.0.0"'
	run dsim-status
	assert_equal "$(field world '[.version, .instances, .rollout] | @csv')" '"1.0.0",100,'
	assert_equal "$(fleet)" "100 1.0.0 ready"
}

@test "the same seed, start and commands give byte-identical records" {
	DSIM_HOME="$BATS_TEST_TMPDIR/a" story 7 >"$BATS_TEST_TMPDIR/a.jsonl" 2>/dev/null
	DSIM_HOME="$BATS_TEST_TMPDIR/b" story 7 >"$BATS_TEST_TMPDIR/b.jsonl" 2>/dev/null

	assert [ -s "$BATS_TEST_TMPDIR/a.jsonl" ]
	cmp "$BATS_TEST_TMPDIR/a.jsonl" "$BATS_TEST_TMPDIR/b.jsonl"
}

@test "a different seed gives different records" {
	DSIM_HOME="$BATS_TEST_TMPDIR/a" story 7 >"$BATS_TEST_TMPDIR/a.jsonl" 2>/dev/null
	DSIM_HOME="$BATS_TEST_TMPDIR/b" story 8 >"$BATS_TEST_TMPDIR/b.jsonl" 2>/dev/null

	run ! cmp -s "$BATS_TEST_TMPDIR/a.jsonl" "$BATS_TEST_TMPDIR/b.jsonl"
}
