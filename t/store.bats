#!/usr/bin/env bats
# The embedded state store: snapshot, journal and lock under DSIM_HOME.

load helper
bats_require_minimum_version 1.5.0

# Start a deploy that holds the lock for about 3.5 s of wall time, in the
# background, its pid in SLOW; wait until it holds the lock.  The lock
# file keeps the line of whoever held it last (dsim-init), so wait for the
# line naming this deploy's pid.
hold_lock() {
	local i

	world -n 100
	dsim-deploy --version 2.0.0 --max-unavailable 10% --speed 10 \
	    >"$BATS_TEST_TMPDIR/slow.out" 2>"$BATS_TEST_TMPDIR/slow.err" 3>&- &
	SLOW=$!
	for ((i = 0; i < 250; i++)); do
		grep -qs "^dsim-deploy (pid $SLOW, " \
		    "$DSIM_HOME/production.lock" && return 0
		sleep 0.02
	done
	echo "the background deploy never took the lock" >&2
	return 1
}

teardown() {
	if [[ -n ${SLOW-} ]]; then
		kill "$SLOW" 2>/dev/null || true
		wait "$SLOW" 2>/dev/null || true
	fi
}

# Rewrite the snapshot through a jq filter: damage FILTER
damage() {
	local snap="$DSIM_HOME/production/world.json"

	jq "$1" "$snap" >"$snap.new"
	mv "$snap.new" "$snap"
}

# Check that status refuses the snapshot, naming it: refused REASON
refused() {
	run --separate-stderr dsim-status
	assert_failure 65
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-status: $DSIM_HOME/production/world.json: $1"
}

TIME_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

@test "a world lives in DSIM_HOME as a snapshot, a journal and a lock" {
	world

	[ -f "$DSIM_HOME/production/world.json" ]
	[ -f "$DSIM_HOME/production/journal.jsonl" ]
	[ -f "$DSIM_HOME/production.lock" ]
	run jq -r .format "$DSIM_HOME/production/world.json"
	assert_output "dsim-world/1"
}

@test "every change is journalled with its sequence, time, actor, program and note" {
	world
	dsim-deploy --version 1.1.0 >/dev/null
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null

	run jq -s -c --arg re "^$TIME_RE\$" '
	    [.[] | .seq] == [range(1; length + 1)],
	    all(.time | test($re)),
	    all(.actor == "tester@bats"),
	    all(.note | type == "string" and length > 0),
	    ([.[].program] | unique | sort)' \
	    "$DSIM_HOME/production/journal.jsonl"
	assert_success
	assert_output 'true
true
true
true
["dsim-chaos","dsim-deploy","dsim-init"]'
	run jq -r .program "$DSIM_HOME/production/journal.jsonl"
	assert_equal "${lines[0]}" "dsim-init"
	assert_equal "${lines[-1]}" "dsim-chaos"
}

@test "a corrupt snapshot is reported with its line and column" {
	world
	sed -i '3s/:/;/' "$DSIM_HOME/production/world.json"

	run --separate-stderr dsim-status
	assert_failure 65
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^dsim-status: $DSIM_HOME/production/world\\.json:3:[0-9]+: .+"
}

@test "status leaves a corrupt snapshot as it was" {
	world
	sed -i '3s/:/;/' "$DSIM_HOME/production/world.json"
	cp "$DSIM_HOME/production/world.json" "$BATS_TEST_TMPDIR/world.json"

	run --separate-stderr dsim-status
	assert_failure 65
	cmp "$BATS_TEST_TMPDIR/world.json" "$DSIM_HOME/production/world.json"
}

@test "a deploy refuses a corrupt snapshot and leaves the store as it was" {
	world
	sed -i '3s/:/;/' "$DSIM_HOME/production/world.json"
	cp "$DSIM_HOME/production/world.json" "$BATS_TEST_TMPDIR/world.json"
	cp "$DSIM_HOME/production/journal.jsonl" "$BATS_TEST_TMPDIR/journal.jsonl"

	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 65
	assert_equal "$output" ""
	assert_regex "$stderr" "^dsim-deploy: $DSIM_HOME/production/world\\.json:3:[0-9]+: .+"
	cmp "$BATS_TEST_TMPDIR/world.json" "$DSIM_HOME/production/world.json"
	cmp "$BATS_TEST_TMPDIR/journal.jsonl" "$DSIM_HOME/production/journal.jsonl"
}

@test "journal entries after the snapshot are replayed" {
	world
	cp "$DSIM_HOME/production/world.json" "$BATS_TEST_TMPDIR/world.json"
	dsim-chaos inject latency --ms 5 >/dev/null
	dsim-chaos inject latency --ms 6 >/dev/null
	# As if each command had died between its journal entry and its
	# snapshot.
	cp "$BATS_TEST_TMPDIR/world.json" "$DSIM_HOME/production/world.json"

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(field world .faults)" 2
}

@test "a malformed journal line is reported with its line" {
	world
	cp "$DSIM_HOME/production/world.json" "$BATS_TEST_TMPDIR/world.json"
	dsim-chaos inject latency --ms 5 >/dev/null
	dsim-chaos inject latency --ms 6 >/dev/null
	cp "$BATS_TEST_TMPDIR/world.json" "$DSIM_HOME/production/world.json"
	sed -i '2s/^{/{x/' "$DSIM_HOME/production/journal.jsonl"

	run --separate-stderr dsim-status
	assert_failure 65
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^dsim-status: $DSIM_HOME/production/journal\\.jsonl:2:[0-9]+: .+"
}

@test "a journal entry out of sequence is refused" {
	world
	cp "$DSIM_HOME/production/world.json" "$BATS_TEST_TMPDIR/world.json"
	dsim-chaos inject latency --ms 5 >/dev/null
	cp "$BATS_TEST_TMPDIR/world.json" "$DSIM_HOME/production/world.json"
	sed -i '2s/"seq":2,/"seq":5,/' "$DSIM_HOME/production/journal.jsonl"

	run --separate-stderr dsim-status
	assert_failure 65
	assert_equal "$stderr" "dsim-status: $DSIM_HOME/production/journal.jsonl:2: journal entry out of sequence (expected 2)"
}

@test "a journal entry without a world is refused" {
	world
	cp "$DSIM_HOME/production/world.json" "$BATS_TEST_TMPDIR/world.json"
	dsim-chaos inject latency --ms 5 >/dev/null
	cp "$BATS_TEST_TMPDIR/world.json" "$DSIM_HOME/production/world.json"
	sed -i '2s/"world":/"globe":/' "$DSIM_HOME/production/journal.jsonl"

	run --separate-stderr dsim-status
	assert_failure 65
	assert_equal "$stderr" "dsim-status: $DSIM_HOME/production/journal.jsonl:2: world or instances is missing"
}

@test "a torn last journal line is ignored" {
	world
	printf '{"seq":2,"time":"2026-' >>"$DSIM_HOME/production/journal.jsonl"

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(field world '[.revision, .faults] | @csv')" "1,0"
	assert_equal "$stderr" ""
}

@test "the next change cuts a torn journal line off" {
	world
	printf '{"seq":2,"time":"2026-' >>"$DSIM_HOME/production/journal.jsonl"

	run --separate-stderr dsim-chaos inject latency --ms 5
	assert_success
	run jq -s -c '[.[].seq]' "$DSIM_HOME/production/journal.jsonl"
	assert_success
	assert_output "[1,2]"
	run dsim-status
	assert_equal "$(field world .faults)" 1
}

@test "a missing journal is reported" {
	world
	rm "$DSIM_HOME/production/journal.jsonl"

	run --separate-stderr dsim-status
	assert_failure 65
	assert_equal "$stderr" "dsim-status: $DSIM_HOME/production/journal.jsonl: cannot open journal: No such file or directory"
}

@test "a snapshot of another format is refused" {
	world
	damage '.format = "dsim-world/2"'
	refused "not a dsim-world/1 snapshot"
}

@test "a snapshot without instances is refused" {
	world
	damage 'del(.instances)'
	refused "world or instances is missing"
}

@test "a snapshot with a malformed header is refused" {
	world
	damage '.world.env = 1'
	refused "the world's header is missing or malformed"
}

@test "a snapshot with a malformed generator state is refused" {
	world
	damage '.world.prng[0] = "xyz"'
	refused "seed or prng is missing or malformed"
}

@test "a snapshot with a malformed clock is refused" {
	world
	damage '.world.clock = "noon"'
	refused "created or clock is missing or malformed"
}

@test "a snapshot with a malformed history is refused" {
	world
	damage '.world.history = {}'
	refused "history is missing or malformed"
}

@test "a snapshot with a malformed history entry is refused" {
	world
	damage '.world.history[0].status = 1'
	refused "a history entry is missing or malformed"
}

@test "a snapshot with malformed faults is refused" {
	world
	damage '.world.faults = {}'
	refused "faults is missing or malformed"
}

@test "a snapshot with a malformed fault is refused" {
	world
	dsim-chaos inject latency --ms 5 >/dev/null
	damage '.world.faults[0].kind = "meteor"'
	refused "a fault is missing or malformed"
}

@test "a snapshot with malformed database nodes is refused" {
	world
	damage '.world.db = 1'
	refused "db is missing or malformed"
}

@test "a snapshot with a malformed database node is refused" {
	world
	damage '.world.db[0].region = "mars"'
	refused "a database node is missing or malformed"
}

@test "a snapshot with malformed instance runs is refused" {
	world
	damage '.runs = 1'
	refused "instances is missing or malformed"
}

@test "a snapshot with a malformed instance run is refused" {
	world
	damage '.runs[0][4] = "asleep"'
	refused "instance run 0 is malformed"
}

@test "a snapshot whose runs leave an instance out is refused" {
	world
	damage '.runs = []'

	run --separate-stderr dsim-status
	assert_failure 65
	assert_regex "$stderr" "^dsim-status: $DSIM_HOME/production/(world\\.json|journal\\.jsonl): instance 0 is not described by any run\$"
}

@test "a snapshot with a malformed configuration is refused as bad data" {
	world
	damage '.world.config.app.port = 0'
	refused "config: app.port is not a port number"
}

@test "a mutating command is refused at once while another holds the lock" {
	hold_lock

	run --separate-stderr dsim-deploy --version 3.0.0
	assert_failure 75
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^dsim-deploy: production: world is locked by dsim-deploy \\(pid $SLOW, tester@bats, since $TIME_RE\\); try again, or use --wait to queue\$"
	kill -0 "$SLOW"
}

@test "init --force is refused while another holds the lock" {
	hold_lock

	run --separate-stderr dsim-init --force
	assert_failure 75
	assert_regex "$stderr" "^dsim-init: production: world is locked by dsim-deploy \\(pid $SLOW, tester@bats, since $TIME_RE\\); try again, or use --wait to queue\$"
}

@test "--wait queues for the lock, then succeeds" {
	hold_lock

	run --separate-stderr dsim-chaos inject latency --ms 5 --wait
	assert_success
	assert_equal "$(field fault .fault)" "latency"
	run ! kill -0 "$SLOW"
	run jq -r .program "$DSIM_HOME/production/journal.jsonl"
	assert_equal "${lines[-1]}" "dsim-chaos"
	assert_equal "${lines[-2]}" "dsim-deploy"
}

@test "status reads the world while another holds the lock" {
	hold_lock

	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(field world .replicas)" 100
	kill -0 "$SLOW"
}

@test "the lock dies with its holder" {
	hold_lock
	kill -9 "$SLOW"
	wait "$SLOW" || true
	SLOW=

	run --separate-stderr dsim-chaos inject latency --ms 5
	assert_success
}

@test "a state home that cannot be made is reported" {
	touch "$BATS_TEST_TMPDIR/file"
	export DSIM_HOME="$BATS_TEST_TMPDIR/file/state"

	run --separate-stderr dsim-init
	assert_failure 73
	assert_equal "$stderr" "dsim-init: $DSIM_HOME: cannot create directory: Not a directory"
}

@test "a lock that cannot be opened is reported" {
	mkdir -p "$DSIM_HOME/production.lock"

	run --separate-stderr dsim-init
	assert_failure 73
	assert_equal "$stderr" "dsim-init: $DSIM_HOME/production.lock: cannot open lock: Is a directory"
}

@test "a journal that cannot be opened is reported" {
	mkdir -p "$DSIM_HOME/production/journal.jsonl"

	run --separate-stderr dsim-init
	assert_failure 73
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-init: $DSIM_HOME/production/journal.jsonl: cannot open journal: Is a directory"
}

@test "a journal that cannot be written is reported" {
	mkdir -p "$DSIM_HOME/production"
	ln -s /dev/full "$DSIM_HOME/production/journal.jsonl"

	run --separate-stderr dsim-init
	assert_failure 74
	assert_equal "$output" ""
	assert_regex "$stderr" "^dsim-init: $DSIM_HOME/production/journal\\.jsonl: cannot write journal: .+"
}

@test "a snapshot that cannot be renamed into place is reported" {
	mkdir -p "$DSIM_HOME/production/world.json"

	run --separate-stderr dsim-init --force
	assert_failure 74
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-init: $DSIM_HOME/production/world.json: rename: Is a directory"
	run find "$DSIM_HOME/production" -name '*.tmp'
	assert_output ""
}

@test "a state home path that is too long is refused" {
	export DSIM_HOME="$BATS_TEST_TMPDIR/$(printf 'a%.0s' {1..5000})"

	run --separate-stderr dsim-init
	assert_failure 78
	assert_equal "$stderr" "dsim-init: DSIM_HOME: path is too long"
}

@test "a world directory path that is too long is refused" {
	export DSIM_HOME="$BATS_TEST_TMPDIR/$(printf 'a%.0s' {1..4060})"
	DSIM_HOME=${DSIM_HOME:0:4090}

	run --separate-stderr dsim-init
	assert_failure 78
	assert_regex "$stderr" "^dsim-init: $BATS_TEST_TMPDIR/a+: path is too long\$"
}

@test "a deploy killed in the middle of a write leaves a world the next deploy completes" {
	world -n 100
	# SIGXFSZ kills the deploy inside a write once the journal passes 8 KB.
	run bash -c 'ulimit -f 8; exec dsim-deploy --version 2.0.0'
	assert_equal "$status" 153
	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(field world '.rollout != null')" true
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(field deploy.result .status)" succeeded
	run jq -c .seq "$DSIM_HOME/production/journal.jsonl"
	assert_success
}
