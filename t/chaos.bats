#!/usr/bin/env bats
# dsim-chaos: inject, list and clear faults, what they do to the world and
# to a deploy, and every message the program prints.

load helper
bats_require_minimum_version 1.5.0

PROG=dsim-chaos

# --- bad release -------------------------------------------------------------

@test "inject bad-release writes an active fault with a failure rate of 1" {
	world
	run --separate-stderr dsim-chaos inject bad-release --version 2.0.0
	assert_success
	assert_equal "$(count fault 'true')" 1
	assert_equal "$(field fault '[.id, .fault, .status, .version,
	    .failure_rate] | join(" ")')" "1 bad-release active 2.0.0 1"
	assert_equal "$(field fault '.created == .ts')" true
	assert_equal "$stderr" ""
}

@test "--failure-rate sets the share of a bad release's instances that fail" {
	world
	run --separate-stderr dsim-chaos inject bad-release --version 2.0.0 \
	    --failure-rate 0.3
	assert_success
	assert_equal "$(field fault .failure_rate)" 0.3
}

@test "a bad release leaves the running instances alone" {
	world
	before=$(dsim-status)
	dsim-chaos inject bad-release --version 1.0.0 >/dev/null
	run --separate-stderr dsim-status
	assert_equal "$(count instance '.ready')" 6
	assert_equal "$(records instance)" \
	    "$(output=$before records instance)"
}

@test "a bad release fails only the version it names" {
	world
	dsim-chaos inject bad-release --version 3.0.0 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(field deploy.result .failed_instances)" 0
}

@test "a bad release with a failure rate of 0 fails nothing" {
	world
	dsim-chaos inject bad-release --version 2.0.0 --failure-rate 0 \
	    >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(field deploy.result .failed_instances)" 0
}

# --- crash -------------------------------------------------------------------

@test "inject crash writes an active fault with its instance count" {
	world
	run --separate-stderr dsim-chaos inject crash --instances 2
	assert_success
	assert_equal "$(field fault '[.id, .fault, .status, .instances] |
	    join(" ")')" "1 crash active 2"
}

@test "a crash takes that many ready instances down" {
	world
	dsim-chaos inject crash --instances 2 >/dev/null
	run --separate-stderr dsim-status
	assert_equal "$(field world '[.states.ready, .states.crashed] |
	    join(" ")')" "4 2"
	assert_equal "$(count instance \
	    '.state == "crashed" and .ready == false')" 2
	assert_equal "$(count instance '.state == "ready" and .ready')" 4
	assert_equal "$(field world .faults)" 1
}

@test "crashing more instances than are ready exits 65" {
	world
	run --separate-stderr dsim-chaos inject crash --instances 7
	assert_failure 65
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-chaos: --instances: cannot crash 7 of 6 ready instances"
}

@test "crashed instances are not ready to be crashed again" {
	world
	dsim-chaos inject crash --instances 2 >/dev/null
	run --separate-stderr dsim-chaos inject crash --instances 5
	assert_failure 65
	assert_equal "$stderr" "dsim-chaos: --instances: cannot crash 5 of 4 ready instances"
}

@test "a crash that cannot happen changes nothing" {
	world
	before=$(state_digest)
	run --separate-stderr dsim-chaos inject crash --instances 7
	assert_failure 65
	assert_equal "$(state_digest)" "$before"
}

@test "the same seed crashes the same instances" {
	world
	dsim-chaos inject crash --instances 3 >/dev/null
	first=$(dsim-status)
	export DSIM_HOME="$BATS_TEST_TMPDIR/again"
	world
	dsim-chaos inject crash --instances 3 >/dev/null
	assert_equal "$(dsim-status)" "$first"
}

@test "clearing a crash makes its instances ready again" {
	world
	dsim-chaos inject crash --instances 2 >/dev/null
	run --separate-stderr dsim-chaos clear 1
	assert_success
	assert_equal "$(field fault '[.id, .fault, .status] | join(" ")')" \
	    "1 crash cleared"
	run --separate-stderr dsim-status
	assert_equal "$(field world '[.states.ready, .states.crashed, .faults] |
	    join(" ")')" "6 0 0"
	assert_equal "$(count instance '.ready')" 6
}

@test "clearing a crash moves the clock on by the restart" {
	world
	dsim-chaos inject crash --instances 2 >/dev/null
	before=$(dsim-status | jq -r 'select(.kind == "world") | .ts')
	dsim-chaos clear 1 >/dev/null
	run --separate-stderr dsim-status
	[[ "$(field world .ts)" > "$before" ]]
}

@test "a deploy replaces crashed instances" {
	world
	dsim-chaos inject crash --instances 2 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	run --separate-stderr dsim-status
	assert_equal "$(field world '[.instances, .states.ready,
	    .states.crashed] | join(" ")')" "6 6 0"
	assert_equal "$(count instance '.version == "2.0.0" and .ready')" 6
}

@test "a deploy of the running version replaces crashed instances" {
	world
	dsim-chaos inject crash --instances 2 >/dev/null
	run --separate-stderr dsim-deploy --version 1.0.0
	assert_success
	assert_equal "$(field deploy.result '.steps > 0')" true
	run --separate-stderr dsim-status
	assert_equal "$(field world '[.instances, .states.ready] |
	    join(" ")')" "6 6"
}

# --- latency -----------------------------------------------------------------

@test "inject latency writes an active fault with its milliseconds" {
	world
	run --separate-stderr dsim-chaos inject latency --ms 250
	assert_success
	assert_equal "$(field fault '[.id, .fault, .status, .ms] |
	    join(" ")')" "1 latency active 250"
}

@test "a latency of a second fails the health checks of a deploy" {
	world
	dsim-chaos inject latency --ms 1000 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 1
	assert_equal "$(count deploy.step \
	    '.phase == "rollout" and .failed > 0')" 1
}

@test "clearing a latency lets a deploy through again" {
	world
	dsim-chaos inject latency --ms 1000 >/dev/null
	dsim-chaos clear 1 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
}

# --- list and clear ----------------------------------------------------------

@test "faults persist: list shows what earlier commands injected" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	dsim-chaos inject latency --ms 250 >/dev/null
	run --separate-stderr dsim-chaos list
	assert_success
	assert_equal "$(records fault | jq -r '[.id, .fault, .status] |
	    join(" ")')" "$(printf '%s\n' "1 bad-release active" \
	    "2 latency active")"
}

@test "list writes the same records as the injects did" {
	world
	injected=$(dsim-chaos inject latency --ms 250)
	run --separate-stderr dsim-chaos list
	assert_success
	assert_equal "$output" "$injected"
}

@test "list on a world without faults writes nothing" {
	world
	run --separate-stderr dsim-chaos list
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
}

@test "list changes nothing in the world" {
	world
	dsim-chaos inject latency --ms 250 >/dev/null
	before=$(state_digest)
	run --separate-stderr dsim-chaos list
	assert_success
	assert_equal "$(state_digest)" "$before"
}

@test "clear ID removes only that fault" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	dsim-chaos inject latency --ms 250 >/dev/null
	run --separate-stderr dsim-chaos clear 1
	assert_success
	assert_equal "$(field fault '[.id, .status] | join(" ")')" "1 cleared"
	run --separate-stderr dsim-chaos list
	assert_equal "$(field fault .id)" 2
}

@test "clear --all clears every active fault" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	dsim-chaos inject latency --ms 250 >/dev/null
	run --separate-stderr dsim-chaos clear --all
	assert_success
	assert_equal "$(records fault | jq -r '[.id, .status] | join(" ")')" \
	    "$(printf '%s\n' "1 cleared" "2 cleared")"
	run --separate-stderr dsim-chaos list
	assert_equal "$output" ""
}

@test "clear --all with no faults writes nothing and succeeds" {
	world
	run --separate-stderr dsim-chaos clear --all
	assert_success
	assert_equal "$output" ""
}

@test "fault ids are not reused after a clear" {
	world
	dsim-chaos inject latency --ms 250 >/dev/null
	dsim-chaos clear 1 >/dev/null
	run --separate-stderr dsim-chaos inject latency --ms 250
	assert_success
	assert_equal "$(field fault .id)" 2
}

@test "clearing a fault that is not active exits 65" {
	world
	dsim-chaos inject latency --ms 250 >/dev/null
	run --separate-stderr dsim-chaos clear 9
	assert_failure 65
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-chaos: fault: no active fault has id 9"
}

@test "a fault id that is not a number is a usage error" {
	world
	usage_error "fault: 'abc' is not a whole number" clear abc
}

@test "a fault id of 0 is a usage error" {
	world
	usage_error "fault: 0 is out of range (1 to 4294967295)" clear 0
}

# --- output ------------------------------------------------------------------

@test "-q writes no fault record but still injects" {
	world
	run --separate-stderr dsim-chaos -q inject latency --ms 250
	assert_success
	assert_equal "$output" ""
	run --separate-stderr dsim-chaos list
	assert_equal "$(count fault 'true')" 1
}

@test "an inject that cannot write its record exits 74" {
	world
	run --separate-stderr sh -c \
	    "dsim-chaos inject latency --ms 250 >/dev/full"
	assert_failure 74
	assert_equal "$stderr" "dsim-chaos: stdout: write error: No space left on device"
}

@test "--format text writes a line that is not JSON" {
	world
	run --separate-stderr dsim-chaos --format text inject latency --ms 250
	assert_success
	assert_equal "${#lines[@]}" 1
	run jq -e . <<<"$output"
	assert_failure
}

# --- other kinds -------------------------------------------------------------

@test "a node fault hits every app instance unless given a target" {
	world
	run --separate-stderr dsim-chaos inject memory-leak
	assert_success
	assert_equal "$(field fault '[.fault, .target, .mib_per_minute] |
	    join(" ")')" "memory-leak * 16"
}

@test "a node fault's target and amount are recorded" {
	world
	run --separate-stderr dsim-chaos inject disk-fill --target db-0 \
	    --percent-per-minute 5
	assert_success
	assert_equal "$(field fault '[.fault, .target, .percent_per_minute] |
	    join(" ")')" "disk-fill db-0 5"
}

@test "a target that names no node exits 65" {
	world
	run --separate-stderr dsim-chaos inject network-partition --target db-9
	assert_failure 65
	assert_equal "$stderr" "dsim-chaos: --target: no app instance or database node is named 'db-9'"
}

@test "an empty target is a usage error" {
	world
	usage_error "--target: '' is not a node name" inject cpu-hog --target ''
}

@test "an amount out of its range is a usage error" {
	world
	usage_error "--cpu-ratio: 2 is out of range (0.01 to 1)" \
	    inject cpu-hog --cpu-ratio 2
	usage_error "--mib-per-minute: 0 is out of range (0.001 to 1e+06)" \
	    inject memory-leak --mib-per-minute 0
	usage_error "--percent-per-minute: 101 is out of range (0.001 to 100)" \
	    inject disk-fill --percent-per-minute 101
}

# --- usage -------------------------------------------------------------------

@test "inject without the option its kind needs is a usage error" {
	usage_error "inject crash needs --instances" inject crash
	usage_error "inject bad-release needs --version" inject bad-release
	usage_error "inject latency needs --ms" inject latency
}

@test "inject with an option of another kind is a usage error" {
	usage_error "inject crash takes no --ms" inject crash --instances 1 \
	    --ms 5
	usage_error "inject latency takes no --version" inject latency --ms 5 \
	    --version 2.0.0
	usage_error "inject bad-release takes no --instances" inject \
	    bad-release --version 2.0.0 --instances 1
	usage_error "inject crash takes no --target" inject crash \
	    --instances 1 --target app-000001
}

@test "an unknown fault kind is a usage error" {
	usage_error "unknown fault 'quake' (bad-release, crash, latency, memory-leak, disk-fill, cpu-hog or network-partition)" \
	    inject quake
}

@test "inject without a kind is a usage error" {
	usage_error "inject needs a kind: bad-release, crash, latency, memory-leak, disk-fill, cpu-hog or network-partition" \
	    inject
}

@test "an unknown command is a usage error" {
	usage_error "unknown command 'boom' (inject, list or clear)" boom
}

@test "no command is a usage error" {
	usage_error "a command is needed: inject, list or clear"
}

@test "clear with neither an id nor --all is a usage error" {
	usage_error "clear needs a fault id or --all, not both" clear
}

@test "clear with both an id and --all is a usage error" {
	usage_error "clear needs a fault id or --all, not both" clear 1 --all
}

@test "list and clear take no inject options" {
	usage_error "list takes no --ms" list --ms 5
	usage_error "list takes no --all" list --all
	usage_error "clear takes no --version" clear --all --version 2.0.0
}

@test "an extra operand is a usage error" {
	usage_error "unexpected argument 'now'" list now
	usage_error "unexpected argument '2'" clear 1 2
	usage_error "unexpected argument 'now'" inject latency --ms 5 now
}

@test "an unknown option is a usage error" {
	usage_error "unknown option '--bogus'" list --bogus
}

@test "a bad-release version must be MAJOR.MINOR.PATCH" {
	world
	usage_error "--version: 'v2' is not a version (MAJOR.MINOR.PATCH, as SemVer)" \
	    inject bad-release --version v2
}

@test "a failure rate outside 0 to 1 is a usage error" {
	world
	usage_error "--failure-rate: 1.5 is out of range (0 to 1)" \
	    inject bad-release --version 2.0.0 --failure-rate 1.5
	usage_error "--failure-rate: 'half' is not a number" \
	    inject bad-release --version 2.0.0 --failure-rate half
}

@test "a crash of no or of not a number of instances is a usage error" {
	world
	usage_error "--instances: 0 is out of range (1 to 10000000)" \
	    inject crash --instances 0
	usage_error "--instances: 'two' is not a whole number" \
	    inject crash --instances two
}

@test "a latency of 0 ms is a usage error" {
	world
	usage_error "--ms: 0 is out of range (1 to 3600000)" \
	    inject latency --ms 0
}

@test "a usage error changes nothing in the world" {
	world
	before=$(state_digest)
	run --separate-stderr dsim-chaos inject crash --instances 1 --ms 5
	assert_failure 64
	assert_equal "$(state_digest)" "$before"
}

@test "chaos with no world exits 66 and says how to create it" {
	run --separate-stderr dsim-chaos list
	assert_failure 66
	assert_equal "$stderr" "dsim-chaos: production: no such world; create it with dsim-init --env production"
}

@test "-V prints the program's version and exits 0" {
	run --separate-stderr dsim-chaos -V
	assert_success
	assert_equal "$output" "dsim-chaos (dsim) 0.1.0"
	assert_equal "$stderr" ""
}

@test "--version with no value prints the program's version and exits 0" {
	run --separate-stderr dsim-chaos --version
	assert_success
	assert_equal "$output" "dsim-chaos (dsim) 0.1.0"
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr dsim-chaos --help
	assert_success
	assert_regex "${lines[0]}" '^usage: dsim-chaos '
	assert_equal "$stderr" ""
}
