#!/usr/bin/env bats
# End to end: dsim-metrics | dsim-alert over a memory leak, from the fault
# to the alert firing, the fault cleared, and the alert resolving, each
# exactly once, in the records and at a real Alertmanager, SMTP server and
# webhook receiver.

load helper
load servers
bats_require_minimum_version 1.5.0

setup_file() {
	servers_start alertmanager smtp http
}

teardown_file() {
	servers_stop
}

teardown() {
	[[ -z ${FOLLOW_PID-} ]] || kill "$FOLLOW_PID" 2>/dev/null || true
	[[ -z ${PIPE_PID-} ]] || kill "$PIPE_PID" 2>/dev/null || true
}

count() {
	jq -s --arg k "$1" "map(select(.kind == \$k) | select($2)) | length" \
	    "$3"
}

# Wait until a command succeeds, at most ten seconds: eventually CMD...
eventually() {
	local i

	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Whether Alertmanager holds the leak's alert as active.
am_active() {
	curl -fs "$AM_URL/api/v2/alerts?filter=alertname%3D%22HighMemoryUsage%22&filter=env_test%3D%22$1%22" |
	    jq -e 'map(select(.status.state == "active")) | length == 1' \
	    >/dev/null
}

# Whether Alertmanager holds no active alert of the test.
am_gone() {
	! am_active "$1"
}

# The production rules, with a label that tells this test's alerts apart.
test_rules() {
	jq --arg t "$1" '.rules[].labels.env_test = $t' \
	    "$DSIM_DATADIR/alerts/production.json" >"$BATS_TEST_TMPDIR/r.json"
}

@test "a leak fires an alert once, and clearing it resolves it once" {
	world
	dsim-chaos inject memory-leak --target app-000002 \
	    --mib-per-minute 8 -q
	{
		dsim-metrics --duration 88m --step 1m
		dsim-chaos clear --all -q
		dsim-metrics --duration 30m --step 1m
	} | dsim-alert --notify console >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err"
	a="$BATS_TEST_TMPDIR/out"
	assert_equal "$(count alert '.status == "firing"' "$a")" 1
	assert_equal "$(count alert '.status == "resolved"' "$a")" 1
	assert_equal "$(count alert '.status == "firing" and
	    .labels.alertname == "HighMemoryUsage" and
	    .labels.instance == "app-000002:8080"' "$a")" 1
	run jq -r 'select(.kind == "alert" and .status != "pending") |
	    "\(.status) \(.ts)"' "$a"
	assert_output "firing 2026-01-01T01:25:00.000Z
resolved 2026-01-01T01:29:00.000Z"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/err")" 2
}

@test "the same world and commands give the same alerts, byte for byte" {
	for run in 1 2; do
		rm -rf "$DSIM_HOME"
		world
		dsim-chaos inject memory-leak --target app-000002 \
		    --mib-per-minute 8 -q
		{
			dsim-metrics --duration 88m --step 1m
			dsim-chaos clear --all -q
			dsim-metrics --duration 10m --step 1m
		} | dsim-alert --notify console 2>/dev/null \
		    >"$BATS_TEST_TMPDIR/out$run"
	done
	cmp "$BATS_TEST_TMPDIR/out1" "$BATS_TEST_TMPDIR/out2"
	[ -s "$BATS_TEST_TMPDIR/out1" ]
}

@test "Alertmanager, e-mail and a webhook each hear it fire, then resolve" {
	world
	test_rules live1
	ls "$SMTP_DIR" "$HTTP_DIR" >"$BATS_TEST_TMPDIR/before"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	dsim-alert --rules "$BATS_TEST_TMPDIR/r.json" \
	    --notify "alertmanager=$AM_URL" --notify "webhook=$HTTP_URL" \
	    --notify email --smtp "$SMTP_URL" --from dsim@example.org \
	    --to oncall@example.org <"$BATS_TEST_TMPDIR/fifo" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PIPE_PID=$!
	exec 4>"$BATS_TEST_TMPDIR/fifo"
	dsim-chaos inject memory-leak --target app-000002 \
	    --mib-per-minute 8 -q
	dsim-metrics --duration 88m --step 1m >&4
	eventually am_active live1
	dsim-chaos clear --all -q
	dsim-metrics --duration 10m --step 1m >&4
	exec 4>&-
	wait "$PIPE_PID"
	PIPE_PID=
	! am_active live1
	a="$BATS_TEST_TMPDIR/out"
	assert_equal "$(count alert.delivery '.status == "sent"' "$a")" 6
	assert_equal "$(count alert.delivery '.status == "sent" and
	    .notifier == "alertmanager"' "$a")" 2
	run bash -c "ls '$SMTP_DIR' | grep -c 'eml$'"
	n=$(grep -c 'eml$' "$BATS_TEST_TMPDIR/before" || true)
	assert_equal "$output" $((n + 2))
	grep -l '^Subject: \[FIRING:1\] HighMemoryUsage (production)' \
	    "$SMTP_DIR"/*.eml
	grep -l '^Subject: \[RESOLVED\] HighMemoryUsage (production)' \
	    "$SMTP_DIR"/*.eml
	assert_equal "$(cat "$HTTP_DIR"/*.json | jq -s 'map(select(
	    .commonLabels.env_test == "live1") | .status)' -c)" \
	    '["firing","resolved"]'
}

@test "a live pipeline shows a fault injected and cleared from elsewhere" {
	world
	cat >"$BATS_TEST_TMPDIR/r.json" <<'JSON'
{ "rules": [ { "name": "HighMemoryUsage", "metric": "dsim_memory_usage_ratio",
  "matchers": { "service": "app" }, "op": ">", "threshold": 0.6,
  "for": "2m", "labels": { "env_test": "live2" } } ] }
JSON
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	dsim-alert --rules "$BATS_TEST_TMPDIR/r.json" \
	    --notify "alertmanager=$AM_URL" <"$BATS_TEST_TMPDIR/fifo" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PIPE_PID=$!
	dsim-metrics --follow --step 1m --speed 600 \
	    >"$BATS_TEST_TMPDIR/fifo" 3>&- &
	FOLLOW_PID=$!
	sleep 0.5
	dsim-chaos inject memory-leak --target app-000003 \
	    --mib-per-minute 8 --wait -q
	eventually am_active live2
	dsim-chaos clear --all --wait -q
	eventually am_gone live2
	kill -TERM "$FOLLOW_PID"
	wait "$FOLLOW_PID"
	wait "$PIPE_PID"
	PIPE_PID=
	a="$BATS_TEST_TMPDIR/out"
	assert_equal "$(count alert '.status == "firing"' "$a")" 1
	assert_equal "$(count alert '.status == "resolved"' "$a")" 1
	assert_equal "$(count alert.delivery '.status == "sent"' "$a")" 2
}
