#!/usr/bin/env bats
# dsim-metrics: the sample model of the world, its formats, running the
# world forward, the fault kinds monitoring needs, this host, and a push
# to a real Pushgateway.

load helper
load servers
bats_require_minimum_version 1.5.0

PROG=dsim-metrics

setup_file() {
	servers_start pushgateway prometheus
	node_exporter_push 100
	# Prometheus takes some seconds to find its targets; then a rate
	# needs two scrapes that differ.
	servers_eventually_query node_memory_MemTotal_bytes web-1
	node_exporter_push 101
	servers_eventually_query 'rate(node_cpu_seconds_total[1m]) > 0' web-1
}

# Push node_exporter's series for web-1:9100 to the Pushgateway, for
# Prometheus to scrape: node_exporter_push IDLE_SECONDS
node_exporter_push() {
	curl -fs --noproxy '*' --data-binary @- \
	    "$PUSHGATEWAY_URL/metrics/job/node/instance/web-1:9100" <<METRICS
node_memory_MemTotal_bytes 8e+09
node_memory_MemAvailable_bytes 2e+09
node_filesystem_avail_bytes{mountpoint="/",device="sda1"} 25
node_filesystem_size_bytes{mountpoint="/",device="sda1"} 100
node_filesystem_avail_bytes{mountpoint="/boot",device="sda2"} 1
node_filesystem_size_bytes{mountpoint="/boot",device="sda2"} 100
node_network_receive_bytes_total{device="eth0"} 1000
node_network_receive_bytes_total{device="eth1"} 24
node_network_receive_bytes_total{device="lo"} 5
node_network_transmit_bytes_total{device="eth0"} 300
node_cpu_seconds_total{cpu="0",mode="idle"} $1
node_cpu_seconds_total{cpu="0",mode="user"} 10
METRICS
}

teardown_file() {
	servers_stop
}

# The value of metric NAME for node NODE in $output's last sample of it.
value() {
	printf '%s\n' "$output" | jq -s -r --arg n "$1" --arg node "$2" \
	    'map(select(.kind == "metric" and .name == $n and
	    .labels.node == $node)) | last | .value'
}

# --- one sample ------------------------------------------------------------

@test "one sample covers every series of every app instance and db node" {
	world
	run --separate-stderr dsim-metrics
	assert_success
	# six app instances of nine series, three database nodes of eight
	assert_equal "$(count metric true)" 78
	assert_equal "$(count metric '.labels.service == "app"')" 54
	assert_equal "$(count metric '.labels.service == "postgresql"')" 24
	assert_equal "$stderr" ""
}

@test "every metric record has a name, a number and the four labels" {
	world
	run dsim-metrics
	assert_success
	assert_equal "$(count metric '(.value | type) == "number" and
	    (.labels | keys) == ["instance","node","region","service"]')" 78
	assert_equal "$(count metric '.ts == "2026-01-01T00:00:00.000Z" and
	    .env == "production"')" 78
}

@test "metric names follow Prometheus practice: prefix and unit suffix" {
	world
	run dsim-metrics
	assert_success
	assert_equal "$(count metric '.name | test("^dsim_[a-z_]+_(ratio|bytes|bytes_total|requests_total)$|^dsim_up$") | not')" 0
	assert_equal "$(count metric '(.name | endswith("_ratio")) and
	    (.value < 0 or .value > 1)')" 0
}

@test "counters start at zero when the world is created" {
	world
	run dsim-metrics
	assert_equal "$(count metric '(.name | endswith("_total")) and
	    .value != 0')" 0
}

@test "a sample changes nothing and needs no lock" {
	world
	before=$(state_digest)
	flock "$DSIM_HOME/production.lock" dsim-metrics >/dev/null
	run dsim-metrics
	assert_success
	assert_equal "$(state_digest)" "$before"
}

@test "the same seed and commands give byte-identical samples" {
	world
	dsim-chaos inject memory-leak -q
	a=$(dsim-metrics --duration 5m --step 1m | sha256sum)
	rm -rf "$DSIM_HOME"
	world
	dsim-chaos inject memory-leak -q
	b=$(dsim-metrics --duration 5m --step 1m | sha256sum)
	assert_equal "$a" "$b"
}

@test "CPU follows the daily load: higher at 16:00 than at 04:00" {
	world --start 2026-01-01T04:00:00Z
	run dsim-metrics
	low=$(value dsim_cpu_usage_ratio app-000001)
	rm -rf "$DSIM_HOME"
	world --start 2026-01-01T16:00:00Z
	run dsim-metrics
	high=$(value dsim_cpu_usage_ratio app-000001)
	awk -v l="$low" -v h="$high" 'BEGIN { exit !(h > l + 0.2) }'
}

# --- running forward -------------------------------------------------------

@test "--duration writes one sample set per step, the clock moving on" {
	world
	run --separate-stderr dsim-metrics --duration 10m --step 1m
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r 'select(.kind ==
	    "metric") | .ts' | sort -u | wc -l)" 10
	assert_equal "$(printf '%s\n' "$output" | jq -r 'select(.kind ==
	    "metric") | .ts' | sort -u | tail -1)" 2026-01-01T00:10:00.000Z
}

@test "--duration advances and saves the world's clock" {
	world
	dsim-metrics --duration 1h --step 5m >/dev/null
	run dsim-status
	assert_equal "$(field world .ts)" 2026-01-01T01:00:00.000Z
}

@test "counters grow as the world runs" {
	world
	run dsim-metrics --duration 2m --step 1m
	first=$(printf '%s\n' "$output" | jq -s -r 'map(select(.name ==
	    "dsim_http_requests_total" and .labels.node == "app-000001")) |
	    first | .value')
	last=$(value dsim_http_requests_total app-000001)
	[ "$first" -gt 0 ]
	[ "$last" -gt "$first" ]
}

@test "--duration takes the lock and exits 75 when another holds it" {
	world
	run --separate-stderr flock "$DSIM_HOME/production.lock" \
	    dsim-metrics --duration 1m
	assert_failure 75
	assert_equal "$output" ""
}

@test "the autoscaler grows the fleet under a CPU hog and records it" {
	world
	dsim-chaos inject cpu-hog -q
	run dsim-metrics --duration 10m --step 1m
	assert_success
	[ "$(count autoscale '.to > .from')" -ge 1 ]
	run dsim-status
	[ "$(field world .replicas)" -gt 6 ]
	assert_equal "$(field world .states.starting)" 0
}

@test "the autoscaler shrinks an idle fleet only after five minutes" {
	world --start 2026-01-01T03:00:00Z
	run dsim-metrics --duration 4m --step 1m
	assert_equal "$(count autoscale true)" 0
	rm -rf "$DSIM_HOME"
	world --start 2026-01-01T03:00:00Z
	run dsim-metrics --duration 6m --step 1m
	assert_equal "$(count autoscale '.to < .from')" 1
	assert_equal "$(field autoscale .ts)" 2026-01-01T03:06:00.000Z
}

@test "development's fleet does not autoscale" {
	world -e development
	dsim-chaos -e development inject cpu-hog -q
	run dsim-metrics -e development --duration 10m --step 1m
	assert_equal "$(count autoscale true)" 0
}

# --- faults ----------------------------------------------------------------

@test "a memory leak grows the memory of its target only" {
	world
	dsim-chaos inject memory-leak --target app-000002 \
	    --mib-per-minute 10 -q
	run dsim-metrics --duration 30m --step 30m
	leak=$(value dsim_memory_usage_ratio app-000002)
	other=$(value dsim_memory_usage_ratio app-000003)
	awk -v l="$leak" -v o="$other" 'BEGIN { exit !(l > o + 0.25) }'
}

@test "a leak that meets the limit restarts the process (OOM)" {
	world
	dsim-chaos inject memory-leak --target app-000002 \
	    --mib-per-minute 100 -q
	run dsim-metrics --duration 8m --step 1m
	assert_equal "$(printf '%s\n' "$output" | jq -s 'map(select(.name ==
	    "dsim_memory_usage_ratio" and .labels.node == "app-000002") |
	    .value) | (max > 0.9) and (last < 0.5)')" true
}

@test "a disk fill grows disk usage at its rate up to full" {
	world
	dsim-chaos inject disk-fill --target db-0 --percent-per-minute 2 -q
	run dsim-metrics --duration 10m --step 10m
	before=$(printf '%s\n' "$output" | jq -r 'select(.name ==
	    "dsim_disk_usage_ratio" and .labels.node == "db-1") | .value')
	after=$(value dsim_disk_usage_ratio db-0)
	awk -v a="$after" 'BEGIN { exit !(a > 0.55) }'
	run dsim-metrics --duration 1h --step 1h
	assert_equal "$(value dsim_disk_usage_ratio db-0)" 1
}

@test "a CPU hog pins the CPU of its targets at its ratio" {
	world
	dsim-chaos inject cpu-hog --cpu-ratio 0.97 -q
	run dsim-metrics
	assert_equal "$(count metric '.name == "dsim_cpu_usage_ratio" and
	    .labels.service == "app" and .value < 0.97')" 0
}

@test "a network partition takes its target down and its series away" {
	world
	dsim-chaos inject network-partition --target app-000004 -q
	run dsim-metrics
	assert_equal "$(value dsim_up app-000004)" 0
	assert_equal "$(count metric '.labels.node == "app-000004"')" 1
	assert_equal "$(value dsim_up app-000003)" 1
}

@test "a partition moves the load onto the instances left" {
	world
	run dsim-metrics
	before=$(value dsim_cpu_usage_ratio app-000001)
	dsim-chaos inject network-partition --target app-000004 -q
	dsim-chaos inject network-partition --target app-000005 -q
	run dsim-metrics
	after=$(value dsim_cpu_usage_ratio app-000001)
	awk -v b="$before" -v a="$after" 'BEGIN { exit !(a > b * 1.2) }'
}

@test "a crashed instance is sampled as down only" {
	world
	dsim-chaos inject crash --instances 6 -q
	run dsim-metrics
	assert_equal "$(count metric '.labels.service == "app" and
	    .name != "dsim_up"')" 0
	assert_equal "$(count metric '.name == "dsim_up" and .value == 0')" 6
}

# --- formats ---------------------------------------------------------------

@test "--format prometheus passes promtool check metrics" {
	world
	run bash -c 'dsim-metrics --format prometheus | promtool check metrics'
	assert_success
	assert_output ""
}

@test "--format prometheus writes HELP and TYPE once per metric" {
	world
	run dsim-metrics --format prometheus
	assert_success
	assert_equal "$(grep -c '^# TYPE' <<<"$output")" 9
	assert_line '# TYPE dsim_http_requests_total counter'
	assert_line --partial 'dsim_up{instance="db-0:5432",node="db-0",region="us-east-1",service="postgresql"} 1'
}

@test "--format text writes a line per record that is not JSON" {
	world
	run dsim-metrics --format text
	assert_success
	assert_equal "${#lines[@]}" 78
	run jq -e . <<<"${lines[0]}"
	assert_failure
}

# --- the Pushgateway -------------------------------------------------------

@test "--push sends every series to the Pushgateway" {
	world
	run --separate-stderr dsim-metrics --push "$PUSHGATEWAY_URL" -q
	assert_success
	assert_output ""
	run curl -fs "$PUSHGATEWAY_URL/api/v1/metrics"
	assert_success
	assert_equal "$(jq -r '.data[] | select(.labels.env == "production")
	    | .dsim_memory_usage_ratio.metrics | length' <<<"$output")" 9
	assert_equal "$(jq -r '.data[] | select(.labels.env == "production")
	    | .dsim_up.metrics[] | select(.labels.node == "db-0") |
	    .value' <<<"$output")" 1
}

@test "--duration --push replaces the group with each sample set" {
	world
	dsim-chaos inject memory-leak --target app-000001 -q
	dsim-metrics --duration 20m --step 10m --push "$PUSHGATEWAY_URL" \
	    >/dev/null
	run curl -fs "$PUSHGATEWAY_URL/api/v1/metrics"
	v=$(jq -r '.data[] | select(.labels.env == "production") |
	    .dsim_memory_usage_ratio.metrics[] |
	    select(.labels.node == "app-000001") | .value' <<<"$output")
	awk -v v="$v" 'BEGIN { exit !(v > 0.5) }'
}

@test "a push nobody receives exits 69 and says where it went" {
	world
	run --separate-stderr dsim-metrics --push http://127.0.0.1:1
	assert_failure 69
	assert_equal "$output" ""
	assert_equal "${stderr%%: *}" "dsim-metrics"
	[[ $stderr == *"http://127.0.0.1:1/metrics/job/dsim/env/production: "* ]]
}

@test "a push the Pushgateway refuses exits 69 with its answer" {
	world
	run --separate-stderr dsim-metrics \
	    --push "$PUSHGATEWAY_URL/metrics/job/dsim/env"
	assert_failure 69
	[[ $stderr == *"/metrics/job/dsim/env: server answered 400: "* ]]
}

# --- this host -------------------------------------------------------------

@test "--source host samples this machine's memory, disk and CPU" {
	run --separate-stderr dsim-metrics --source host
	assert_success
	assert_equal "$(count metric '.labels.service == "host"')" 7
	total=$(( $(awk '/^MemTotal/ { print $2 }' /proc/meminfo) * 1024 ))
	bytes=$(value dsim_memory_usage_bytes "$(hostname)")
	ratio=$(value dsim_memory_usage_ratio "$(hostname)")
	awk -v b="$bytes" -v r="$ratio" -v t="$total" \
	    'BEGIN { d = b / t - r; exit !(d < 1e-9 && d > -1e-9) }'
	assert_equal "$(count metric '.name == "dsim_cpu_usage_ratio" and
	    .value >= 0 and .value <= 1')" 1
}

@test "--source host needs no world" {
	run dsim-metrics --source host -e nowhere
	assert_success
}

# --- a Prometheus server ---------------------------------------------------

@test "--source prometheus reads node_exporter's series as dsim's" {
	run --separate-stderr dsim-metrics --source prometheus \
	    --url "$PROMETHEUS_URL"
	assert_success
	node=web-1
	assert_equal "$(value dsim_memory_usage_bytes $node)" 6000000000
	assert_equal "$(value dsim_memory_usage_ratio $node)" 0.75
	assert_equal "$(value dsim_disk_usage_ratio $node)" 0.75
	assert_equal "$(value dsim_network_receive_bytes_total $node)" 1024
	assert_equal "$(value dsim_network_transmit_bytes_total $node)" 300
	assert_equal "$(count metric '.labels.node == "web-1" and
	    .name == "dsim_cpu_usage_ratio" and .value >= 0 and
	    .value <= 1')" 1
	assert_equal "$(count metric '.labels.node == "web-1" and
	    .labels.instance == "web-1:9100" and
	    .labels.service == "node"')" 6
}

@test "--source prometheus sees the targets Prometheus scrapes as up" {
	run dsim-metrics --source prometheus --url "$PROMETHEUS_URL/"
	assert_success
	assert_equal "$(count metric '.name == "dsim_up" and
	    .labels.service == "pushgateway" and .value == 1')" 1
}

@test "a Prometheus server that does not answer exits 69" {
	run --separate-stderr dsim-metrics --source prometheus \
	    --url http://127.0.0.1:1
	assert_failure 69
	assert_output ""
	[[ $stderr == "dsim-metrics: http://127.0.0.1:1/api/v1/query?query=up: "* ]]
}

@test "a URL that is no Prometheus exits 69 with the server's answer" {
	run --separate-stderr dsim-metrics --source prometheus \
	    --url "$PUSHGATEWAY_URL"
	assert_failure 69
	[[ $stderr == *"server answered 404"* ]]
}

# --- follow ----------------------------------------------------------------

@test "--follow paces the world to the clock and stops on a signal" {
	world
	dsim-metrics --follow --step 1m --speed 240 \
	    >"$BATS_TEST_TMPDIR/out" 3>&- &
	pid=$!
	sleep 1.3
	kill -TERM "$pid"
	wait "$pid"
	run jq -r 'select(.kind == "metric") | .ts' "$BATS_TEST_TMPDIR/out"
	n=$(sort -u <<<"$output" | wc -l)
	[ "$n" -ge 3 ] && [ "$n" -le 8 ]
	run dsim-status
	[[ $(field world .ts) > 2026-01-01T00:02 ]]
}

@test "--follow shows a fault injected from another command" {
	world
	dsim-metrics --follow --step 1m --speed 600 \
	    >"$BATS_TEST_TMPDIR/out" 3>&- &
	pid=$!
	sleep 0.5
	dsim-chaos inject network-partition --target app-000003 --wait -q
	sleep 0.5
	kill -TERM "$pid"
	wait "$pid"
	run jq -s 'map(select(.name == "dsim_up" and
	    .labels.node == "app-000003") | .value) | (first == 1) and
	    (last == 0)' "$BATS_TEST_TMPDIR/out"
	assert_output true
}

@test "--follow leaves no instance the autoscaler started half-way" {
	world
	dsim-chaos inject cpu-hog -q
	dsim-metrics --follow --step 1m --speed 600 >/dev/null 3>&- &
	pid=$!
	sleep 0.5
	kill -TERM "$pid"
	wait "$pid"
	run dsim-status
	[ "$(field world .replicas)" -gt 6 ]
	assert_equal "$(field world .states.starting)" 0
}

# --- errors ----------------------------------------------------------------

@test "no world exits 66 and says how to create one" {
	run --separate-stderr dsim-metrics
	assert_failure 66
	assert_equal "$stderr" "dsim-metrics: production: no such world; create it with dsim-init --env production"
}

@test "--duration and --follow together are a usage error" {
	usage_error "--duration and --follow exclude each other" \
	    --duration 1m --follow
}

@test "--step without --duration or --follow is a usage error" {
	usage_error "--step needs --duration or --follow" --step 1m
}

@test "--speed without --follow is a usage error" {
	usage_error "--speed needs --follow" --speed 10
}

@test "--format prometheus with --duration is a usage error" {
	usage_error "--format prometheus holds one sample; use json, or --push, with --duration or --follow" \
	    --format prometheus --duration 1m
}

@test "an unknown source is a usage error" {
	usage_error "--source: 'cloud' is not sim, host or prometheus" \
	    --source cloud
}

@test "a duration that is not one is a usage error" {
	usage_error "--duration: 'soon' is not a duration (such as 90s, 10m, 1h30m)" \
	    --duration soon
}

@test "--duration with another source than sim is a usage error" {
	usage_error "--duration runs the simulated world; use --follow with --source host" \
	    --source host --duration 1m
}

@test "--url without --source prometheus is a usage error" {
	usage_error "--url needs --source prometheus" --url http://x
}

@test "--source prometheus without --url is a usage error" {
	usage_error "--source prometheus needs --url" --source prometheus
}

@test "a sample that cannot be written exits 74" {
	world
	for format in json prometheus; do
		run --separate-stderr bash -c \
		    "dsim-metrics --format $format >/dev/full"
		assert_failure 74
		assert_equal "$stderr" "dsim-metrics: stdout: write error: No space left on device"
	done
}

@test "an unexpected argument is a usage error" {
	usage_error "unexpected argument 'now'" now
}
