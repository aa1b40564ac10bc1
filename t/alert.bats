#!/usr/bin/env bats
# dsim-alert: rules, the pending/firing/resolved state machine, bad input,
# and notifications delivered to a real Alertmanager, an SMTP sink and an
# HTTP receiver.

load helper
load servers
bats_require_minimum_version 1.5.0

setup_file() {
	servers_start alertmanager smtp http
}

teardown_file() {
	servers_stop
}

# A rules file with one rule on m: rules FILE OP THRESHOLD FOR [EXTRA JSON]
rules() {
	cat >"$1" <<JSON
{ "rules": [ { "name": "TooHigh", "metric": "m", "op": "$2",
  "threshold": $3, "for": "$4", "severity": "page",
  "labels": { "team": "db" },
  "annotations": { "summary": "{{ \$labels.instance }} at {{ \$value }}" }
  ${5:-} } ] }
JSON
}

# A metric record of m: sample MINUTE VALUE [INSTANCE]
sample() {
	printf '{"kind":"metric","ts":"2026-01-01T00:%02d:00.000Z","env":"production","name":"m","value":%s,"labels":{"instance":"%s","service":"app"}}\n' \
	    "$1" "$2" "${3:-a}"
}

# Samples of instance a at minutes FROM..TO of a value: series FROM TO VALUE
series() {
	local i

	for i in $(seq "$1" "$2"); do
		sample "$i" "$3"
	done
}

count() {
	printf '%s\n' "$output" |
	    jq -s --arg k "$1" "map(select(.kind == \$k) | select($2)) | length"
}

# Run dsim-alert on a file of input with a rules file, console silenced.
alert() {
	local input=$1

	shift
	run --separate-stderr dsim-alert --rules "$BATS_TEST_TMPDIR/r.json" \
	    "$@" <"$input"
}

usage_error() {
	local msg=$1

	shift
	run --separate-stderr dsim-alert "$@" </dev/null
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "$stderr" "$(printf '%s\n' "dsim-alert: $msg" \
	    "Try 'dsim-alert --help' for more information.")"
}

# --- the state machine -----------------------------------------------------

@test "a condition held for its 'for' fires exactly once" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 5m
	series 0 20 0.95 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(count alert '.status == "firing"')" 1
	assert_equal "$(count alert '.status == "firing" and
	    .startsAt == "2026-01-01T00:05:00.000Z"')" 1
}

@test "an alert is pending from when its condition starts to hold" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 5m
	series 0 3 0.95 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert true)" 1
	assert_equal "$(count alert '.status == "pending" and
	    .startsAt == "2026-01-01T00:00:00.000Z"')" 1
}

@test "a condition that stops before its 'for' never fires" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 5m
	{ series 0 3 0.95; series 4 20 0.5; } >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(count alert '.status != "pending"')" 0
	assert_equal "$stderr" ""
}

@test "a firing alert resolves once, with its end and last value" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ series 0 2 0.95; sample 3 0.97; series 4 9 0.1; } \
	    >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert '.status == "firing"')" 1
	assert_equal "$(count alert '.status == "resolved"')" 1
	assert_equal "$(count alert '.status == "resolved" and
	    .endsAt == "2026-01-01T00:04:00.000Z" and .value == 0.97 and
	    .startsAt == "2026-01-01T00:00:00.000Z"')" 1
}

@test "a firing alert has no end" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	series 0 1 0.95 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert '.status == "firing" and .endsAt == null')" 1
}

@test "--repeat writes a firing alert again every interval" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	series 0 30 0.95 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --repeat 10m
	assert_equal "$(count alert '.status == "firing"')" 4
}

@test "an alert fires again after it resolved" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ series 0 1 0.95; series 2 3 0.1; series 4 5 0.95; } \
	    >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert '.status == "firing"')" 2
	assert_equal "$(count alert '.status == "resolved"')" 1
}

@test "each series has its own alert" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ sample 0 0.95 a; sample 0 0.95 b; sample 0 0.5 c; } \
	    >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert '.status == "firing"')" 2
	assert_equal "$(printf '%s\n' "$output" | jq -r .fingerprint |
	    sort -u | wc -l)" 2
}

@test "labels in another order are the same series" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ sample 0 0.95; printf '%s\n' '{"labels":{"service":"app","instance":"a"},"value":0.96,"name":"m","kind":"metric","ts":"2026-01-01T00:01:00Z"}'; } \
	    >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert true)" 1
}

@test "a series unseen for five minutes is stale and its alert resolves" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ sample 0 0.95 a; for i in $(seq 0 9); do sample "$i" 0.1 b; done; } \
	    >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert '.status == "resolved" and
	    .labels.instance == "a"')" 1
}

@test "--state carries alerts from one run to the next, as under cron" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 3m
	for m in 0 1 2 3 4 5; do
		sample "$m" 0.95 >"$BATS_TEST_TMPDIR/in"
		alert "$BATS_TEST_TMPDIR/in" --state "$BATS_TEST_TMPDIR/state"
		assert_success
		printf '%s\n' "$output" >>"$BATS_TEST_TMPDIR/all"
	done
	sample 6 0.1 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --state "$BATS_TEST_TMPDIR/state"
	printf '%s\n' "$output" >>"$BATS_TEST_TMPDIR/all"
	run jq -r 'select(.kind == "alert") | "\(.status) \(.ts)"' \
	    "$BATS_TEST_TMPDIR/all"
	assert_output "pending 2026-01-01T00:00:00.000Z
firing 2026-01-01T00:03:00.000Z
resolved 2026-01-01T00:06:00.000Z"
}

@test "--state keeps an anomaly rule's window" {
	anomaly_rules "$BATS_TEST_TMPDIR/r.json"
	noisy 0 29 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --anomaly --state "$BATS_TEST_TMPDIR/state"
	sample 30 0.9 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --anomaly --state "$BATS_TEST_TMPDIR/state"
	assert_equal "$(count alert '.status == "firing"')" 1
}

@test "a state file that is not one exits 65 and is left alone" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	echo '{"alerts": 3}' >"$BATS_TEST_TMPDIR/state"
	alert /dev/null --state "$BATS_TEST_TMPDIR/state"
	assert_failure 65
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/state: not an alert state file"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/state")" '{"alerts": 3}'
}

@test "a state file that cannot be written exits 73" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	alert /dev/null --state "$BATS_TEST_TMPDIR/no/such/dir/state"
	assert_failure 73
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/no/such/dir/state: cannot write the alert state: No such file or directory"
}

# --- rules -----------------------------------------------------------------

@test "an alert's labels: alertname, severity, the series', the rule's" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	sample 0 0.95 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(printf '%s\n' "$output" | jq -c .labels)" \
	    '{"alertname":"TooHigh","instance":"a","service":"app","severity":"page","team":"db"}'
}

@test "the fingerprint is Alertmanager's hash of the labels" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	sample 0 0.95 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(printf '%s\n' "$output" | jq -r .fingerprint)" \
	    "$(printf '%s\n' "$output" | jq -r .fingerprint)"
	[[ $(printf '%s\n' "$output" | jq -r .fingerprint) =~ ^[0-9a-f]{16}$ ]]
}

@test "annotations render the series' labels and the value" {
	cat >"$BATS_TEST_TMPDIR/r.json" <<'JSON'
{ "rules": [ { "name": "Big", "metric": "m", "op": ">", "threshold": 1,
  "annotations": { "a": "{{ $labels.instance }} {{$value}}",
    "b": "{{ $value | humanize }} {{ $value | humanize1024 }}",
    "c": "{{ $value | humanizePercentage }} of {{ $labels.alertname }}" } } ] }
JSON
	sample 0 2048 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(printf '%s\n' "$output" | jq -c .annotations)" \
	    '{"a":"a 2048","b":"2.048k 2Ki","c":"2.048e+05% of Big"}'
}

@test "matchers select series by label: =, !=, =~ and !~" {
	for m in '"a"' '"=a"' '"!=b"' '"=~a|c"' '"!~b.*"'; do
		rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s \
		    ", \"matchers\": { \"instance\": $m }"
		{ sample 0 0.95 a; sample 0 0.95 b; } >"$BATS_TEST_TMPDIR/in"
		alert "$BATS_TEST_TMPDIR/in"
		assert_equal "$(count alert true)" 1
		assert_equal "$(count alert '.labels.instance == "a"')" 1
	done
}

@test "a rule compares with <, <=, ==, != and >=" {
	for c in '< 0.5' '<= 0.2' '== 0.2' '!= 0.3' '>= 0.2'; do
		rules "$BATS_TEST_TMPDIR/r.json" "${c% *}" "${c#* }" 0s
		sample 0 0.2 >"$BATS_TEST_TMPDIR/in"
		alert "$BATS_TEST_TMPDIR/in"
		assert_equal "$(count alert '.status == "firing"')" 1
	done
}

@test "the production rules cover CPU, memory, disk and network" {
	run jq -r '.rules[].metric' "$DSIM_DATADIR/alerts/production.json"
	assert_line dsim_cpu_usage_ratio
	assert_line dsim_memory_usage_ratio
	assert_line dsim_disk_usage_ratio
	assert_line dsim_network_utilization_ratio
}

@test "the production rules stay quiet over a healthy world" {
	world
	dsim-metrics --duration 2h --step 1m >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr dsim-alert --notify console \
	    <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "the production rules see a full disk" {
	world
	dsim-chaos inject disk-fill --target db-1 --percent-per-minute 5 -q
	dsim-metrics --duration 30m --step 1m >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr dsim-alert --notify console \
	    <"$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert '.status == "firing" and
	    .labels.alertname == "DiskAlmostFull" and
	    .labels.node == "db-1"')" 1
}

@test "the production rules see an instance cut off by a partition" {
	world
	dsim-chaos inject network-partition --target app-000005 -q
	dsim-metrics --duration 5m --step 1m >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr dsim-alert --notify console \
	    <"$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert '.status == "firing" and
	    .labels.alertname == "InstanceDown" and
	    .labels.severity == "critical"')" 1
}

@test "the production rules see a CPU hog" {
	world -e development
	dsim-chaos -e development inject cpu-hog -q
	dsim-metrics -e development --duration 10m --step 1m \
	    >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr dsim-alert --notify console \
	    <"$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert '.status == "firing" and
	    .labels.alertname == "HighCpuUsage"')" 1
}

@test "development's rules fire at once and speak on the console" {
	world -e development
	dsim-chaos -e development inject cpu-hog -q
	dsim-metrics -e development >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr dsim-alert -e development <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(count alert '.status == "firing"')" 1
	assert_equal "${#stderr_lines[@]}" 1
	[[ ${stderr_lines[0]} == "2026-01-01T00:00:00.000Z FIRING   HighCpuUsage instance=app-000001:3000 "* ]]
}

# --- anomaly detection -----------------------------------------------------

# An anomaly rule on m: anomaly_rules FILE
anomaly_rules() {
	cat >"$1" <<'JSON'
{ "rules": [ { "name": "Odd", "type": "anomaly", "metric": "m",
  "window": 20, "min_samples": 10, "z": 4, "for": "0s" } ] }
JSON
}

# Noisy samples of a around 0.3 at minutes FROM..TO: noisy FROM TO
noisy() {
	local i

	for i in $(seq "$1" "$2"); do
		sample "$i" "0.3$(( (i * 7919) % 10 ))"
	done
}

@test "an anomaly rule fires on a jump away from the recent past" {
	anomaly_rules "$BATS_TEST_TMPDIR/r.json"
	{ noisy 0 29; sample 30 0.9; } >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --anomaly
	assert_success
	assert_equal "$(count alert '.status == "firing" and
	    .labels.alertname == "Odd" and .value == 0.9 and
	    .ts == "2026-01-01T00:30:00.000Z"')" 1
}

@test "an anomaly rule stays quiet over noise" {
	anomaly_rules "$BATS_TEST_TMPDIR/r.json"
	noisy 0 59 >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --anomaly
	assert_success
	assert_output ""
}

@test "a new level stops being an anomaly once the window knows it" {
	anomaly_rules "$BATS_TEST_TMPDIR/r.json"
	{ noisy 0 19; series 20 40 0.9; } >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --anomaly
	assert_equal "$(count alert '.status == "firing"')" 1
	assert_equal "$(count alert '.status == "resolved"')" 1
}

@test "anomaly rules are off unless the world has advanced monitoring" {
	anomaly_rules "$BATS_TEST_TMPDIR/r.json"
	{ noisy 0 29; sample 30 0.9; } >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output ""
}

@test "ENABLE_ADVANCED_MONITORING turns anomaly rules on, --no-anomaly off" {
	world
	# What dsim-flags will do: set the flag in the world's snapshot.
	f=$DSIM_HOME/production/world.json
	jq '.world.flags.ENABLE_ADVANCED_MONITORING = true' "$f" >"$f.new"
	mv "$f.new" "$f"
	anomaly_rules "$BATS_TEST_TMPDIR/r.json"
	{ noisy 0 29; sample 30 0.9; } >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_equal "$(count alert '.status == "firing"')" 1
	alert "$BATS_TEST_TMPDIR/in" --no-anomaly
	assert_output ""
}

@test "the production rules' anomaly detection sees a CPU hog first" {
	world
	{
		dsim-metrics --duration 1h --step 1m
		dsim-chaos inject cpu-hog --target app-000002 -q
		dsim-metrics --duration 10m --step 1m
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr dsim-alert --anomaly --notify console \
	    <"$BATS_TEST_TMPDIR/in"
	run jq -r 'select(.status == "firing") | "\(.ts) \(.labels.alertname)"' \
	    <<<"$output"
	assert_output "2026-01-01T01:03:00.000Z CpuAnomaly
2026-01-01T01:06:00.000Z HighCpuUsage"
}

@test "an anomaly rule with a bad window exits 78" {
	echo '{ "rules": [ { "name": "X", "type": "anomaly", "metric": "m",
	    "window": 2 } ] }' >"$BATS_TEST_TMPDIR/r.json"
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: rules[0]: an anomaly rule needs a window of 3 to 10000, min_samples from 3 to the window, and a positive z"
}

@test "a rule of an unknown type exits 78" {
	echo '{ "rules": [ { "name": "X", "type": "magic", "metric": "m" } ] }' \
	    >"$BATS_TEST_TMPDIR/r.json"
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: rules[0]: type must be threshold or anomaly"
}

# --- input -----------------------------------------------------------------

@test "records of other kinds are ignored" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	printf '%s\n' '{"kind":"fault","ts":"2026-01-01T00:00:00Z"}' \
	    >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output ""
}

@test "--pass passes records of other kinds through as they were" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	line='{"kind":"deploy.step","ts":"2026-01-01T00:00:00Z", "x": [1, {"y": "\u00e9"}]}'
	{ printf '%s\n' "$line"; sample 0 0.5; } >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --pass
	assert_success
	assert_output "$line"
}

@test "each bad line is reported with its number, the rest processed" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ echo '{"kind":"metric",'; sample 0 0.5; echo '[1]';
	    echo '{"kind":"metric","name":"m","ts":"2026-01-01T00:01:00Z"}';
	    echo '{"kind":"metric","name":"m","value":1,"ts":"yesterday"}';
	    echo '{"kind":"metric","name":"m","value":1,"ts":"2026-01-01T00:01:00Z","labels":{"a":1}}';
	    echo '{"kind":"metric"} x'; sample 2 0.95; } \
	    >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_failure 65
	assert_equal "$(count alert '.status == "firing"')" 1
	assert_equal "$stderr" "dsim-alert: stdin:1: column 18: expected a member name
dsim-alert: stdin:3: column 1: a record must be a JSON object
dsim-alert: stdin:4: a metric record needs a name, a numeric value and a ts
dsim-alert: stdin:5: ts 'yesterday' is not an RFC 3339 time
dsim-alert: stdin:6: column 81: label values must be strings
dsim-alert: stdin:7: column 19: text after the record
2026-01-01T00:02:00.000Z FIRING   TooHigh instance=a service=app severity=page team=db value=0.95: a at 0.95
dsim-alert: stdin: 6 bad lines skipped"
}

@test "strings with escapes are read as JSON means them" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	printf '%s\n' '{"kind":"metric","ts":"2026-01-01T00:00:00Z","name":"\u006d","value":1e0,"labels":{"instance":"x\"\\\/\ud83d\ude00"}}' \
	    >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r .labels.instance)" \
	    'x"\/😀'
}

@test "no input gives no output and exit 0" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	alert /dev/null
	assert_success
	assert_output ""
}

@test "memory stays bounded by the series, not the stream's length" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	awk 'BEGIN { for (i = 0; i < 200000; i++)
	    printf "{\"kind\":\"metric\",\"ts\":\"2026-01-01T00:00:%02d.%03dZ\",\"name\":\"m\",\"value\":0.5,\"labels\":{\"instance\":\"i%d\"}}\n", (i / 1000) % 60, i % 1000, i % 100 }' \
	    >"$BATS_TEST_TMPDIR/small"
	for i in 1 2 3 4 5 6 7 8 9 10; do cat "$BATS_TEST_TMPDIR/small"; done \
	    >"$BATS_TEST_TMPDIR/big"
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/small.kb" dsim-alert \
	    --rules "$BATS_TEST_TMPDIR/r.json" <"$BATS_TEST_TMPDIR/small"
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/big.kb" dsim-alert \
	    --rules "$BATS_TEST_TMPDIR/r.json" <"$BATS_TEST_TMPDIR/big"
	small=$(tail -1 "$BATS_TEST_TMPDIR/small.kb")
	big=$(tail -1 "$BATS_TEST_TMPDIR/big.kb")
	[ "$big" -lt $((small + 2048)) ]
}

# --- notifiers -------------------------------------------------------------

# The number of the last message each sink holds, so that a test sees
# only what arrives after: mark
mark() {
	ls "$HTTP_DIR" | { grep -c '^[0-9]*\.json$' || true; } \
	    >"$BATS_TEST_TMPDIR/http.mark"
	ls "$SMTP_DIR" | { grep -c '^[0-9]*\.eml$' || true; } \
	    >"$BATS_TEST_TMPDIR/smtp.mark"
}

# The bodies the HTTP receiver got since mark, as one array.
posted() {
	local n i

	n=$(ls "$HTTP_DIR" | { grep -c '^[0-9]*\.json$' || true; })
	for i in $(seq $(( $(cat "$BATS_TEST_TMPDIR/http.mark") + 1 )) "$n"); do
		cat "$HTTP_DIR/$i.json"
		echo
	done | jq -s -c .
}

# The messages the SMTP sink got since mark, one file name a line.
mails() {
	local n i

	n=$(ls "$SMTP_DIR" | { grep -c '^[0-9]*\.eml$' || true; })
	for i in $(seq $(( $(cat "$BATS_TEST_TMPDIR/smtp.mark") + 1 )) "$n"); do
		echo "$SMTP_DIR/$i.eml"
	done
}

# A firing then a resolved alert of rule TooHigh, into $BATS_TEST_TMPDIR/in.
fire_and_resolve() {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ series 0 1 0.95; series 2 3 0.1; } >"$BATS_TEST_TMPDIR/in"
	mark
}

@test "the webhook receiver gets Alertmanager's payload, version 4" {
	fire_and_resolve
	alert "$BATS_TEST_TMPDIR/in" --notify "webhook=$HTTP_URL"
	assert_success
	run posted
	assert_equal "$(jq 'length' <<<"$output")" 2
	assert_equal "$(jq -c '.[0] | [.version, .status, .groupKey,
	    .groupLabels, .commonLabels.team, (.alerts | length),
	    .alerts[0].status, .alerts[0].endsAt]' <<<"$output")" \
	    '["4","firing","{}:{alertname=\"TooHigh\"}",{"alertname":"TooHigh"},"db",1,"firing","0001-01-01T00:00:00Z"]'
	assert_equal "$(jq -c '.[1] | [.status, .alerts[0].endsAt]' \
	    <<<"$output")" '["resolved","2026-01-01T00:02:00.000Z"]'
}

@test "each delivery is written as an alert.delivery record" {
	fire_and_resolve
	alert "$BATS_TEST_TMPDIR/in" --notify "webhook=$HTTP_URL"
	assert_equal "$(count alert.delivery '.status == "sent" and
	    .notifier == "webhook" and .attempts == 1 and
	    .alerts == "TooHigh"')" 2
}

@test "Alertmanager receives the alert with the same fingerprint" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	sample 0 0.95 amtest >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --notify "alertmanager=$AM_URL"
	assert_success
	fp=$(printf '%s\n' "$output" | jq -r 'select(.kind == "alert") |
	    .fingerprint')
	run curl -fs "$AM_URL/api/v2/alerts?filter=instance%3D%22amtest%22"
	assert_success
	assert_equal "$(jq -c 'map([.labels.alertname, .status.state,
	    .fingerprint, .annotations.summary])' <<<"$output")" \
	    "[[\"TooHigh\",\"active\",\"$fp\",\"amtest at 0.95\"]]"
}

@test "Alertmanager hears when the alert resolves" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ sample 0 0.95 amres; sample 1 0.1 amres; } >"$BATS_TEST_TMPDIR/in"
	alert "$BATS_TEST_TMPDIR/in" --notify "alertmanager=$AM_URL"
	assert_success
	assert_equal "$(count alert.delivery '.status == "sent"')" 2
	run curl -fs "$AM_URL/api/v2/alerts?filter=instance%3D%22amres%22"
	assert_success
	assert_output "[]"
}

@test "Alertmanager is reminded of a firing alert every --resend" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	dsim-alert --rules "$BATS_TEST_TMPDIR/r.json" --resend 1s \
	    --notify "alertmanager=$AM_URL" <"$BATS_TEST_TMPDIR/fifo" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	exec 4>"$BATS_TEST_TMPDIR/fifo"
	sample 0 0.95 keep >&4
	updated() {
		curl -fs "$AM_URL/api/v2/alerts?filter=instance%3D%22keep%22" |
		    jq -r '.[0].updatedAt // empty'
	}
	for i in $(seq 50); do
		first=$(updated)
		[ -n "$first" ] && break
		sleep 0.1
	done
	sleep 2.5
	second=$(updated)
	exec 4>&-
	wait "$pid"
	[ -n "$first" ]
	[[ $second > $first ]]
	run jq -c 'select(.kind == "alert.delivery") | .status' \
	    "$BATS_TEST_TMPDIR/out"
	assert_output '"sent"'
}

@test "an e-mail reaches the SMTP server, its subject naming the alert" {
	fire_and_resolve
	alert "$BATS_TEST_TMPDIR/in" --notify email --smtp "$SMTP_URL" \
	    --from dsim@example.org --to oncall@example.org \
	    --to dba@example.org
	assert_success
	run mails
	assert_equal "${#lines[@]}" 2
	first=${lines[0]}
	grep -q '^Subject: \[FIRING:1\] TooHigh (production)' "$first"
	grep -q '^Subject: \[RESOLVED\] TooHigh (production)' "${lines[1]}"
	grep -q '^From: dsim@example.org' "$first"
	grep -q 'summary: a at 0.95' "$first"
	run cat "${first%.eml}.env"
	assert_output "from dsim@example.org
to oncall@example.org
to dba@example.org"
}

@test "e-mail settings come from DSIM_SMTP_URL, DSIM_ALERT_FROM and _TO" {
	fire_and_resolve
	DSIM_SMTP_URL=$SMTP_URL DSIM_ALERT_FROM=a@example.org \
	    DSIM_ALERT_TO=b@example.org,c@example.org \
	    alert "$BATS_TEST_TMPDIR/in" --notify email
	assert_success
	run mails
	assert_equal "${#lines[@]}" 2
	grep -q '^To: b@example.org, c@example.org' "${lines[0]}"
}

@test "smtp+starttls:// refuses a server that offers no STARTTLS" {
	fire_and_resolve
	alert "$BATS_TEST_TMPDIR/in" --notify email --retries 0 \
	    --smtp "smtp+starttls://${SMTP_URL#smtp://}" \
	    --from a@example.org --to b@example.org
	assert_failure 69
	run mails
	assert_output ""
}

@test "production notifies by e-mail by default" {
	world
	dsim-chaos inject network-partition --target app-000001 -q
	dsim-metrics --duration 3m --step 1m >"$BATS_TEST_TMPDIR/in"
	mark
	DSIM_SMTP_URL=$SMTP_URL run --separate-stderr dsim-alert \
	    <"$BATS_TEST_TMPDIR/in"
	assert_success
	run mails
	assert_equal "${#lines[@]}" 1
	grep -q '^Subject: \[FIRING:1\] InstanceDown (production)' "${lines[0]}"
	grep -q '^To: oncall@localhost' "${lines[0]}"
}

@test "several notifiers are told at once" {
	fire_and_resolve
	alert "$BATS_TEST_TMPDIR/in" --notify console --notify \
	    "webhook=$HTTP_URL" --notify email --smtp "$SMTP_URL" \
	    --from a@example.org --to b@example.org
	assert_success
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "$(posted | jq length)" 2
	assert_equal "$(mails | wc -l)" 2
}

@test "alerts of one moment are grouped by alertname into one message" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ sample 0 0.95 a; sample 0 0.95 b; sample 0 0.95 c; } \
	    >"$BATS_TEST_TMPDIR/in"
	mark
	alert "$BATS_TEST_TMPDIR/in" --notify "webhook=$HTTP_URL"
	assert_equal "$(posted | jq -c 'map(.alerts | length)')" '[3]'
	assert_equal "$(posted | jq -r '.[0].commonLabels.instance')" null
}

@test "--group-by splits the notifications by other labels" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	{ sample 0 0.95 a; sample 0 0.95 b; } >"$BATS_TEST_TMPDIR/in"
	mark
	alert "$BATS_TEST_TMPDIR/in" --notify "webhook=$HTTP_URL" \
	    --group-by alertname,instance
	assert_equal "$(posted | jq -c 'map(.groupKey) | sort')" \
	    '["{}:{alertname=\"TooHigh\",instance=\"a\"}","{}:{alertname=\"TooHigh\",instance=\"b\"}"]'
}

@test "a failed delivery is retried, logged, recorded, and exits 69" {
	fire_and_resolve
	alert "$BATS_TEST_TMPDIR/in" --notify webhook=http://127.0.0.1:1/ \
	    --retries 2
	assert_failure 69
	assert_equal "$(count alert '.status != "pending"')" 2
	assert_equal "$(count alert.delivery '.status == "failed" and
	    .attempts == 3 and (.error | startswith("http://127.0.0.1:1/: "))')" 2
	assert_equal "${stderr_lines[0]%%: http*}" "dsim-alert: webhook"
	[[ ${stderr_lines[0]} == *"(after 3 attempts)" ]]
	assert_equal "${stderr_lines[2]}" "dsim-alert: notify: 2 notifications not delivered"
}

@test "a receiver's error status is a failed delivery with its answer" {
	mkdir "$BATS_TEST_TMPDIR/h"
	servers_run failing "$BATS_TEST_TMPDIR/h/ready.PORT" /usr/bin/python3 \
	    "$BATS_TEST_DIRNAME/http-sink.py" PORT "$BATS_TEST_TMPDIR/h" 500
	fire_and_resolve
	alert "$BATS_TEST_TMPDIR/in" \
	    --notify "webhook=http://127.0.0.1:$SERVERS_PORT/" --retries 1
	assert_failure 69
	assert_equal "$(count alert.delivery '.status == "failed" and
	    (.error | endswith("server answered 500"))')" 2
	assert_equal "$(ls "$BATS_TEST_TMPDIR/h" | grep -c json)" 4
}

@test "a slow receiver costs at most the timeout, not the input" {
	mkdir "$BATS_TEST_TMPDIR/h"
	servers_run slow "$BATS_TEST_TMPDIR/h/ready.PORT" /usr/bin/python3 \
	    "$BATS_TEST_DIRNAME/http-sink.py" PORT "$BATS_TEST_TMPDIR/h" 200 30
	fire_and_resolve
	start=$(date +%s)
	alert "$BATS_TEST_TMPDIR/in" \
	    --notify "webhook=http://127.0.0.1:$SERVERS_PORT/" \
	    --retries 0 --timeout 1s
	end=$(date +%s)
	assert_failure 69
	[ $((end - start)) -le 5 ]
	assert_equal "$(count alert '.status != "pending"')" 2
	assert_equal "$(count alert.delivery '.status == "failed"')" 2
}

# --- errors ----------------------------------------------------------------

@test "an unknown notifier is a usage error" {
	usage_error "--notify: 'pager' is not console, email, webhook=URL or alertmanager=URL" \
	    --notify pager
}

@test "more than eight notifiers is a usage error" {
	usage_error "--notify: at most 8 notifiers" \
	    $(printf -- '--notify console %.0s' $(seq 9))
}

@test "more than sixteen recipients is a usage error" {
	usage_error "--to: at most 16 recipients" \
	    $(printf -- '--to a@b %.0s' $(seq 17))
}

@test "--smtp without the e-mail notifier is a usage error" {
	usage_error "--smtp: --smtp, --from and --to need --notify email" \
	    --notify console --smtp smtp://x
}

@test "e-mail without a server and a sender exits 78" {
	run --separate-stderr dsim-alert -e development --notify email \
	    </dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: email: needs an SMTP URL and a sender (--smtp and --from, DSIM_SMTP_URL and DSIM_ALERT_FROM, or the rules' notify.email)"
}

@test "e-mail without a recipient exits 78" {
	run --separate-stderr dsim-alert -e development --notify email \
	    --smtp smtp://127.0.0.1:1 --from a@b </dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: email: needs a recipient (--to, DSIM_ALERT_TO or the rules' notify.email.to)"
}

@test "an SMTP URL of another scheme is a usage error when sending" {
	fire_and_resolve
	alert "$BATS_TEST_TMPDIR/in" --notify email --smtp http://x \
	    --from a@b --to c@d --retries 0
	assert_failure 69
	[[ ${stderr_lines[0]} == "dsim-alert: email: --smtp: 'http://x' is not an smtp://, smtp+starttls:// or smtps:// URL (after 1 attempt)" ]]
}

@test "a rules file that does not exist exits 66" {
	run --separate-stderr dsim-alert --rules /nonexistent </dev/null
	assert_failure 66
	assert_equal "$stderr" "dsim-alert: /nonexistent: cannot read: No such file or directory"
}

@test "an environment with no rules exits 78" {
	run --separate-stderr dsim-alert -e staging </dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $DSIM_DATADIR/alerts/staging.json: no alerting rules for environment 'staging' (use --rules FILE)"
}

@test "a rules file that is not JSON exits 78 with line and column" {
	echo '{ "rules": [ }' >"$BATS_TEST_TMPDIR/r.json"
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: 1:14: unexpected token near '}'"
}

@test "a rule without a threshold exits 78 naming the rule" {
	echo '{ "rules": [ { "name": "X", "metric": "m" } ] }' \
	    >"$BATS_TEST_TMPDIR/r.json"
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: rules[0]: a threshold rule needs a threshold"
}

@test "a rule with an unknown comparison exits 78" {
	rules "$BATS_TEST_TMPDIR/r.json" '=>' 1 0s
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: rules[0]: op must be >, >=, <, <=, == or !="
}

@test "a rule with a bad 'for' exits 78" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 1 soon
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: rules[0]: for is not a duration"
}

@test "a template with an unknown expression exits 78" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 1 0s \
	    ', "annotations": { "s": "{{ $labels.x | shout }}" }'
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: rules[0]: a label or annotation is not a string or has an unknown {{ }} expression"
}

@test "a bad regular expression in a matcher exits 78" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 1 0s \
	    ', "matchers": { "instance": "=~(" }'
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: rules[0]: a matcher is not a string or not a valid regular expression"
}

@test "matchers that are not an object exit 78" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 1 0s ', "matchers": [1]'
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: rules[0]: matchers, labels and annotations must be objects"
}

@test "a rules file without rules exits 78" {
	echo '{}' >"$BATS_TEST_TMPDIR/r.json"
	alert /dev/null
	assert_failure 78
	assert_equal "$stderr" "dsim-alert: $BATS_TEST_TMPDIR/r.json: \"rules\" must be an array"
}

@test "a bad --repeat is a usage error" {
	usage_error "--repeat: 'often' is not a duration (such as 30s, 5m, 4h)" \
	    --repeat often
}

@test "too many retries is a usage error" {
	run --separate-stderr dsim-alert --retries 99 </dev/null
	assert_failure 64
}

@test "alerts that cannot be written exit 74" {
	rules "$BATS_TEST_TMPDIR/r.json" '>' 0.9 0s
	sample 0 0.95 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr bash -c "dsim-alert --notify console \
	    --rules '$BATS_TEST_TMPDIR/r.json' <'$BATS_TEST_TMPDIR/in' \
	    >/dev/full"
	assert_failure 74
	assert_equal "${stderr_lines[-1]}" "dsim-alert: stdout: write error: No space left on device"
}

@test "an unexpected argument is a usage error" {
	usage_error "unexpected argument 'x'" x
}
