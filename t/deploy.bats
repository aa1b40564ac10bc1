#!/usr/bin/env bats
# dsim-deploy: rolling and recreate rollouts, automatic rollback, the plan,
# and every message the program prints.

load helper
bats_require_minimum_version 1.5.0

PROG=dsim-deploy

# --- a rolling deploy ------------------------------------------------------

@test "a rolling deploy succeeds and exits 0" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(field deploy.result .status)" succeeded
	assert_equal "$(field deploy.result .from_version)" 1.0.0
	assert_equal "$(field deploy.result .to_version)" 2.0.0
	assert_equal "$(field deploy.result .revision)" 2
	assert_equal "$(field deploy.result 'has("reason")')" false
	assert_equal "$(field deploy.result 'has("rollback_revision")')" false
}

@test "a successful deploy writes nothing on stderr" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$stderr" ""
}

@test "after a rolling deploy every instance runs the new version, ready" {
	world
	dsim-deploy --version 2.0.0 >/dev/null
	run --separate-stderr dsim-status
	assert_success
	assert_equal "$(field world .version)" 2.0.0
	assert_equal "$(field world .instances)" "$(field world .replicas)"
	assert_equal "$(count instance 'true')" 6
	assert_equal "$(count instance '.version == "2.0.0" and .ready')" 6
	assert_equal "$(field world .states.ready)" 6
}

@test "a deploy writes a plan, then steps, then one result" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r .kind | uniq -c |
	    awk '{ print $2 }' | paste -sd' ')" \
	    "deploy.plan deploy.step deploy.result"
	assert_equal "$(count deploy.result 'true')" 1
	assert_equal "$(count deploy.step '.operation == "deploy"')" \
	    "$(field deploy.result .steps)"
	assert_equal "$(printf '%s\n' "$output" | jq -r .env | sort -u)" \
	    production
}

@test "the plan resolves production's 25% bounds to 1 unavailable and 2 surge" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(field deploy.plan '[.operation, .strategy, .revision,
	    .from_version, .to_version, .instances, .max_unavailable,
	    .max_surge, .max_failures, .health_timeout_s, .dry_run] |
	    @tsv')" "$(printf 'deploy\trolling\t2\t1.0.0\t2.0.0\t6\t1\t2\t0\t60\tfalse')"
}

@test "percentages round surge up and unavailable down" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0 \
	    --max-unavailable 40% --max-surge 40%
	assert_success
	# 40% of 6 is 2.4 instances.
	assert_equal "$(field deploy.plan .max_unavailable)" 2
	assert_equal "$(field deploy.plan .max_surge)" 3
}

@test "every step of a rolling deploy keeps all but max-unavailable ready" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(count deploy.step 'true')" \
	    "$(field deploy.result .steps)"
	assert_equal "$(count deploy.step '.min_ready < 6 - 1')" 0
	assert_equal "$(field deploy.result '.min_available >= 6 - 1')" true
}

@test "with no surge allowed, every step still keeps the availability bound" {
	world --instances 10
	run --separate-stderr dsim-deploy --version 2.0.0 --max-unavailable 3 \
	    --max-surge 0
	assert_success
	assert_equal "$(count deploy.step '.min_ready < 10 - 3')" 0
	assert_equal "$(count deploy.step '.instances > 10')" 0
	assert_equal "$(field deploy.result '.min_available >= 10 - 3')" true
}

@test "with no unavailability allowed, no step takes a ready instance away" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0 --max-unavailable 0 \
	    --max-surge 1
	assert_success
	assert_equal "$(count deploy.step '.min_ready < 6')" 0
	assert_equal "$(field deploy.result .min_available)" 6
}

@test "a rolling deploy never runs more than instances plus max-surge" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(count deploy.step '.instances > 6 + 2')" 0
}

@test "a rolling deploy of a healthy release loses no requests" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(count deploy.step '.failed_requests != 0')" 0
	assert_equal "$(field deploy.result .failed_requests)" 0
}

@test "the plan's batches count the steps that start new instances" {
	world --instances 20
	run --separate-stderr dsim-deploy --version 2.0.0 --max-unavailable 3 \
	    --max-surge 2
	assert_success
	assert_equal "$(field deploy.plan .batches)" \
	    "$(count deploy.step '.launched > 0')"
}

@test "a plan that replaces crashed instances of its version counts the batch" {
	world
	dsim-chaos inject crash --instances 2 >/dev/null
	run --separate-stderr dsim-deploy --version 1.0.0
	assert_success
	assert_equal "$(count deploy.step '.launched > 0')" 1
	assert_equal "$(field deploy.plan .batches)" 1
}

@test "a deploy adds a succeeded revision with cause deploy" {
	world
	dsim-deploy --version 2.0.0 >/dev/null
	run --separate-stderr dsim-status --history
	assert_success
	assert_equal "$(records revision | jq -r '[.revision, .version, .cause,
	    .status, .current] | @tsv')" \
	    "$(printf '1\t1.0.0\tinit\tsucceeded\tfalse\n2\t2.0.0\tdeploy\tsucceeded\ttrue')"
}

@test "the same seed and commands give byte-identical records" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	first=$output
	export DSIM_HOME="$BATS_TEST_TMPDIR/again"
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$output" "$first"
}

# --- recreate --------------------------------------------------------------

@test "--recreate takes every instance down at once and loses requests" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0 --recreate
	assert_success
	assert_equal "$(field deploy.plan .strategy)" recreate
	assert_equal "$(field deploy.result .min_available)" 0
	assert_equal "$(field deploy.result '.failed_requests > 0')" true
}

@test "after --recreate every instance runs the new version, ready" {
	world
	dsim-deploy --version 2.0.0 --recreate >/dev/null
	run --separate-stderr dsim-status
	assert_equal "$(field world .instances)" 6
	assert_equal "$(count instance '.version == "2.0.0" and .ready')" 6
}

@test "a development world is deployed by recreate unless told otherwise" {
	world --env development
	run --separate-stderr dsim-deploy -e development --version 2.0.0
	assert_success
	assert_equal "$(field deploy.plan .strategy)" recreate
	assert_equal "$(field deploy.plan .instances)" 1
	assert_equal "$(printf '%s\n' "$output" | jq -r .env | sort -u)" \
	    development
}

@test "--rolling overrides a development world's recreate" {
	world --env development
	run --separate-stderr dsim-deploy -e development --version 2.0.0 \
	    --rolling
	assert_success
	assert_equal "$(field deploy.plan .strategy)" rolling
}

@test "DSIM_ENV chooses the environment" {
	world --env development
	DSIM_ENV=development run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(field deploy.result .env)" development
}

# --- dry run and no-op -----------------------------------------------------

@test "--dry-run writes only the plan, marked as a dry run" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0 --dry-run
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r .kind)" deploy.plan
	assert_equal "$(field deploy.plan .dry_run)" true
	assert_equal "$(field deploy.plan .revision)" 2
	assert_equal "$stderr" ""
}

@test "--dry-run changes nothing in the world" {
	world
	before_status=$(dsim-status; dsim-status --history)
	before_files=$(state_digest)
	run --separate-stderr dsim-deploy --version 2.0.0 --dry-run
	assert_success
	assert_equal "$(dsim-status; dsim-status --history)" "$before_status"
	assert_equal "$(state_digest)" "$before_files"
}

@test "deploying the running version succeeds in no steps" {
	world
	run --separate-stderr dsim-deploy --version 1.0.0
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r .kind | paste -sd' ')" \
	    "deploy.plan deploy.result"
	assert_equal "$(field deploy.result .status)" succeeded
	assert_equal "$(field deploy.result .steps)" 0
	assert_equal "$(field deploy.result .revision)" 1
}

@test "deploying the running version adds no revision" {
	world
	dsim-deploy --version 1.0.0 >/dev/null
	run --separate-stderr dsim-status --history
	assert_equal "$(count revision 'true')" 1
}

# --- failures and automatic rollback ---------------------------------------

@test "a bad release is rolled back automatically and exits 1" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 1
	assert_equal "$(field deploy.result .status)" rolled_back
	assert_equal "$(field deploy.result .revision)" 2
	assert_equal "$(field deploy.result .rollback_revision)" 3
	assert_equal "$(field deploy.result .rollback_version)" 1.0.0
	assert_equal "$(field deploy.result '.failed_instances > 0')" true
	assert_equal "$(field deploy.result '.reason | length > 0')" true
}

@test "the result of a rolled-back deploy sums up its steps" {
	world --instances 20
	dsim-chaos inject bad-release --version 2.0.0 --failure-rate 0.3 \
	    >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0 --max-failures 5
	assert_failure 1
	assert_equal "$(printf '%s\n' "$output" | jq -c -s '
	    map(select(.kind == "deploy.step")) | [length,
	    (map(.duration_s * 1000) | add | round), (map(.failed) | add),
	    (map(.failed_requests) | add), (map(.min_ready) | min)]')" \
	    "$(field deploy.result '[.steps, (.duration_s * 1000 | round),
	    .failed_instances, .failed_requests, .min_available] | tojson')"
}

@test "a rolled-back deploy says why on stderr" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 1
	assert_equal "$stderr" "$(printf '%s\n' \
	    "dsim-deploy: production: 3 new instances of 2.0.0 failed health checks (0 allowed); rolling back to 1.0.0" \
	    "dsim-deploy: production: deploy 2.0.0 rolled back: 3 new instances of 2.0.0 failed health checks (0 allowed)")"
}

@test "the steps after a failure roll back to the previous version" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 1
	[ "$(count deploy.step '.phase == "rollback"')" -gt 0 ]
	assert_equal "$(count deploy.step \
	    '.phase == "rollback" and .version != "1.0.0"')" 0
	assert_equal "$(count deploy.step \
	    '.phase == "rollout" and .version != "2.0.0"')" 0
}

@test "an automatic rollback also keeps instances minus max-unavailable ready" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 1
	assert_equal "$(count deploy.step '.min_ready < 6 - 1')" 0
	assert_equal "$(field deploy.result '.min_available >= 6 - 1')" true
}

@test "after an automatic rollback every instance is ready on the old version" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	dsim-deploy --version 2.0.0 >/dev/null 2>&1 || true
	run --separate-stderr dsim-status
	assert_equal "$(field world .version)" 1.0.0
	assert_equal "$(field world .instances)" 6
	assert_equal "$(count instance '.version == "1.0.0" and .ready')" 6
}

@test "the history shows the bad revision rolled back and the auto-rollback" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	dsim-deploy --version 2.0.0 >/dev/null 2>&1 || true
	run --separate-stderr dsim-status --history
	assert_equal "$(records revision | jq -r '[.revision, .version, .cause,
	    .status, .current] | @tsv')" \
	    "$(printf '%s\n' "1	1.0.0	init	succeeded	false" \
	    "2	2.0.0	deploy	rolled_back	false" \
	    "3	1.0.0	auto-rollback	succeeded	true")"
}

@test "when the automatic rollback fails too, the deploy fails and says so" {
	world
	# A latency over the probe timeout fails the checks of any version.
	dsim-chaos inject latency --ms 1000 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 1
	assert_equal "$(field deploy.result .status)" failed
	assert_equal "$(field deploy.result .rollback_revision)" 3
	assert_equal "$stderr" "$(printf '%s\n' \
	    "dsim-deploy: production: 3 new instances of 2.0.0 failed health checks (0 allowed); rolling back to 1.0.0" \
	    "dsim-deploy: production: deploy 2.0.0 failed: rollback failed: 1 new instance of 1.0.0 failed health checks (0 allowed)")"
	run --separate-stderr dsim-status --history
	assert_equal "$(records revision | jq -r 'select(.revision == 3) |
	    "\(.cause) \(.status)"')" "auto-rollback failed"
}

@test "--no-rollback stops a failing release where it is and exits 1" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0 --no-rollback
	assert_failure 1
	assert_equal "$(field deploy.result .status)" failed
	assert_equal "$(field deploy.result 'has("rollback_revision")')" false
	assert_equal "$(count deploy.step '.phase == "rollback"')" 0
	assert_equal "$stderr" "dsim-deploy: production: deploy 2.0.0 failed: 3 new instances of 2.0.0 failed health checks (0 allowed)"
}

@test "--no-rollback leaves the fleet mixed" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	dsim-deploy --version 2.0.0 --no-rollback >/dev/null 2>&1 || true
	run --separate-stderr dsim-status
	assert_equal "$(count instance '.version == "1.0.0" and .ready')" 5
	assert_equal "$(count instance '.version == "2.0.0" and .ready')" 0
	assert_equal "$(count instance \
	    '.version == "2.0.0" and .state == "failed"')" 3
	run --separate-stderr dsim-status --history
	assert_equal "$(records revision | jq -r 'select(.current) |
	    "\(.revision) \(.status)"')" "2 failed"
}

@test "--max-failures lets a partly bad release through" {
	# With seed 7, 9 of the 20 new instances fail at a rate of 0.3: more
	# than none, fewer than the 10 that 50% allows.
	world --instances 20
	dsim-chaos inject bad-release --version 2.0.0 --failure-rate 0.3 \
	    >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0 --max-failures 50%
	assert_success
	assert_equal "$(field deploy.plan .max_failures)" 10
	assert_equal "$(field deploy.result .status)" succeeded
	assert_equal "$(field deploy.result \
	    '.failed_instances > 0 and .failed_instances <= 10')" true
	run --separate-stderr dsim-status
	assert_equal "$(count instance '.version == "2.0.0" and .ready')" 20
	assert_equal "$(field world .instances)" 20
}

@test "without --max-failures a partly bad release is rolled back" {
	world --instances 20
	dsim-chaos inject bad-release --version 2.0.0 --failure-rate 0.3 \
	    >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 1
	assert_equal "$(field deploy.plan .max_failures)" 0
	assert_equal "$(field deploy.result .status)" rolled_back
}

@test "a latency of a second makes new instances fail their health checks" {
	world
	dsim-chaos inject latency --ms 1000 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 1
	assert_equal "$(count deploy.step \
	    '.phase == "rollout" and .failed == .launched')" 1
	assert_equal "$(field deploy.result '.status != "succeeded"')" true
}

@test "a latency under a second leaves health checks passing" {
	world
	dsim-chaos inject latency --ms 999 >/dev/null
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_success
	assert_equal "$(field deploy.result .failed_instances)" 0
}

@test "a health timeout shorter than start-up makes new instances fail" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0 --health-timeout 1s
	assert_failure 1
	assert_equal "$(field deploy.plan .health_timeout_s)" 1
	assert_equal "$(count deploy.step \
	    '.phase == "rollout" and .failed == .launched')" 1
	assert_equal "$(field deploy.result '.status != "succeeded"')" true
}

@test "a health timeout longer than start-up lets instances through" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0 --health-timeout 1m30s
	assert_success
	assert_equal "$(field deploy.plan .health_timeout_s)" 90
}

@test "a deploy takes over from one that was killed and marks it interrupted" {
	world
	# Paced at real time, the first step is committed at once and the
	# deploy then sleeps for about 11 s: long enough to kill it mid-way.
	dsim-deploy --version 2.0.0 --speed 1 >/dev/null 2>&1 3>&- &
	pid=$!
	for i in $(seq 100); do
		dsim-status | jq -se 'map(select(.kind == "world"))[0] |
		    .rollout != null' >/dev/null && break
		sleep 0.05
	done
	kill -KILL "$pid"
	wait "$pid" || true
	run --separate-stderr dsim-deploy --version 3.0.0
	assert_success
	assert_equal "$stderr" "dsim-deploy: production: taking over from an interrupted rollout of revision 2"
	run --separate-stderr dsim-status --history
	assert_equal "$(records revision | jq -r 'select(.revision == 2) |
	    .status')" interrupted
}

@test "taking over from a killed automatic rollback leaves none in progress" {
	world --instances 20
	dsim-chaos inject bad-release --version 2.0.0 --failure-rate 0.3 \
	    >/dev/null
	# With seed 7 this deploy fails in two steps and rolls back in two.
	# Paced, it sleeps after each step; the reader leaves after the first
	# rollback step, so the deploy dies of SIGPIPE when it writes the
	# second, with the rollback committed but not finished.
	dsim-deploy --version 2.0.0 --max-failures 5 --health-timeout 12s \
	    --speed 20 2>/dev/null | while read -r line; do
		[[ $line != *'"phase":"rollback"'* ]] || break
	done
	run --separate-stderr dsim-status
	assert_equal "$(field world .rollout.phase)" rollback
	dsim-deploy -q --version 3.0.0 2>/dev/null
	run --separate-stderr dsim-status --history
	assert_equal "$(records revision | jq -r 'select(.revision == 3) |
	    "\(.cause) \(.status)"')" "auto-rollback interrupted"
	assert_equal "$(count revision '.status == "in_progress"')" 0
}

@test "--speed paces the rollout against the wall clock" {
	world
	start=$(date +%s%N)
	run --separate-stderr dsim-deploy --version 2.0.0 --speed 100
	end=$(date +%s%N)
	assert_success
	took_ms=$(( (end - start) / 1000000 ))
	want_ms=$(field deploy.result '.duration_s * 1000 / 100 | floor')
	[ "$took_ms" -ge "$want_ms" ]
}

# --- output ------------------------------------------------------------------

@test "-q writes no records but keeps the exit status" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	run --separate-stderr dsim-deploy -q --version 2.0.0
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-deploy: production: deploy 2.0.0 rolled back: 3 new instances of 2.0.0 failed health checks (0 allowed)"
}

@test "-q still deploys" {
	world
	run --separate-stderr dsim-deploy -q --version 2.0.0
	assert_success
	assert_equal "$output" ""
	run --separate-stderr dsim-status
	assert_equal "$(field world .version)" 2.0.0
}

@test "-v reports each step on stderr and leaves the records alone" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	quiet=$output
	export DSIM_HOME="$BATS_TEST_TMPDIR/again"
	world
	run --separate-stderr dsim-deploy -v --version 2.0.0
	assert_success
	assert_equal "$output" "$quiet"
	[ "${#stderr_lines[@]}" -gt 0 ]
	for line in "${stderr_lines[@]}"; do
		assert_regex "$line" '^dsim-deploy: production: [^ ]'
	done
}

@test "--format text writes one line per record and none of them JSON" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	json_lines=${#lines[@]}
	export DSIM_HOME="$BATS_TEST_TMPDIR/again"
	world
	run --separate-stderr dsim-deploy --version 2.0.0 --format text
	assert_success
	assert_equal "${#lines[@]}" "$json_lines"
	for line in "${lines[@]}"; do
		run jq -e . <<<"$line"
		assert_failure
	done
}

@test "--format text shows durations as the JSON records do" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0
	json=$(printf '%s\n' "$output" | grep -o '"duration_s":[^,}]*' |
	    sed 's/"duration_s":/duration_s=/')
	export DSIM_HOME="$BATS_TEST_TMPDIR/again"
	world
	run --separate-stderr dsim-deploy --version 2.0.0 --format text
	assert_success
	assert_equal "$(printf '%s\n' "$output" | grep -o 'duration_s=[^ ]*')" \
	    "$json"
}

# --- usage -------------------------------------------------------------------

@test "-V prints the program's version and exits 0" {
	run --separate-stderr dsim-deploy -V
	assert_success
	assert_equal "$output" "dsim-deploy (dsim) 0.1.0"
	assert_equal "$stderr" ""
}

@test "--version with no value prints the program's version and exits 0" {
	run --separate-stderr dsim-deploy --version
	assert_success
	assert_equal "$output" "dsim-deploy (dsim) 0.1.0"
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr dsim-deploy --help
	assert_success
	assert_regex "${lines[0]}" '^usage: dsim-deploy '
	assert_equal "$stderr" ""
}

@test "a version that is not MAJOR.MINOR.PATCH is a usage error" {
	world
	for v in 1.0 v1.0.0 x 01.0.0 1.0.0.0; do
		usage_error "--version: '$v' is not a version (MAJOR.MINOR.PATCH, as SemVer)" \
		    --version "$v"
	done
}

@test "a SemVer pre-release is a version" {
	world
	run --separate-stderr dsim-deploy --version 2.0.0-rc.1 --dry-run
	assert_success
	assert_equal "$(field deploy.plan .to_version)" 2.0.0-rc.1
}

@test "an unknown option is a usage error with a hint" {
	usage_error "unknown option '--bogus'" --bogus
	usage_error "unknown option '-x'" --version 2.0.0 -x
}

@test "a deploy without --version is a usage error" {
	world
	usage_error "--version V is required"
}

@test "an operand is a usage error" {
	usage_error "unexpected argument 'now'" --version 2.0.0 now
}

@test "an option without its value is a usage error" {
	usage_error "option '--health-timeout' needs a value" --version 2.0.0 \
	    --health-timeout
}

@test "a value given to a flag is a usage error" {
	usage_error "option '--dry-run' takes no value" --version 2.0.0 \
	    --dry-run=yes
}

@test "max-unavailable and max-surge both 0 is a usage error" {
	world
	usage_error "--max-unavailable: max-unavailable and max-surge cannot both be 0 (for 6 instances)" \
	    --version 2.0.0 --max-unavailable 0 --max-surge 0
}

@test "percentages that come to 0 unavailable and 0 surge are a usage error" {
	world
	# 10% of 6 instances rounds down to none.
	usage_error "--max-unavailable: max-unavailable and max-surge cannot both be 0 (for 6 instances)" \
	    --version 2.0.0 --max-unavailable 10% --max-surge 0%
}

@test "a percentage over 100 is a usage error" {
	world
	for opt in --max-unavailable --max-surge --max-failures; do
		usage_error "$opt: '101%' is not a percentage from 0% to 100%" \
		    --version 2.0.0 "$opt" 101%
	done
}

@test "an amount that is neither a count nor a percentage is a usage error" {
	world
	for amount in x -1 % 2.5; do
		usage_error "--max-failures: '$amount' is not a count or a percentage" \
		    --version 2.0.0 --max-failures "$amount"
	done
}

@test "a health timeout that is not a positive duration is a usage error" {
	world
	for t in x 0s 10x -1m; do
		usage_error "--health-timeout: '$t' is not a duration (such as 90s, 2m, 1m30s)" \
		    --version 2.0.0 --health-timeout "$t"
	done
}

@test "--rolling and --recreate together are a usage error" {
	world
	usage_error "--rolling and --recreate exclude each other" \
	    --version 2.0.0 --rolling --recreate
}

@test "a format other than json or text is a usage error" {
	world
	usage_error "--format: 'yaml' is not json or text" --version 2.0.0 \
	    --format yaml
}

@test "a speed that is not a positive number is a usage error" {
	world
	usage_error "--speed: 'fast' is not a number" --version 2.0.0 \
	    --speed fast
	usage_error "--speed: 0 is out of range (0.001 to 1e+09)" \
	    --version 2.0.0 --speed 0
}

@test "an environment name with a slash is a usage error" {
	usage_error "--env: '../production' is not a valid name" \
	    --version 2.0.0 -e ../production
}

@test "a DSIM_ENV that is not a name is a usage error" {
	DSIM_ENV=../production run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "dsim-deploy: DSIM_ENV: '../production' is not a valid name"
}

@test "a usage error changes nothing in the world" {
	world
	before=$(state_digest)
	run --separate-stderr dsim-deploy --version 2.0.0 --max-unavailable 0 \
	    --max-surge 0
	assert_failure 64
	assert_equal "$(state_digest)" "$before"
}

# --- no world ----------------------------------------------------------------

@test "a deploy with no world exits 66 and says how to create it" {
	run --separate-stderr dsim-deploy --version 2.0.0
	assert_failure 66
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-deploy: production: no such world; create it with dsim-init --env production"
}

@test "a deploy to another environment with no world names that environment" {
	world
	run --separate-stderr dsim-deploy -e staging --version 2.0.0
	assert_failure 66
	assert_equal "$stderr" "dsim-deploy: staging: no such world; create it with dsim-init --env staging"
}

# --- stdout ----------------------------------------------------------------

@test "a deploy that cannot write its records exits 74" {
	world
	run --separate-stderr sh -c "dsim-deploy --version 2.0.0 >/dev/full"
	assert_failure 74
	assert_equal "$stderr" "dsim-deploy: stdout: write error: No space left on device"
}
