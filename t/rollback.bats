#!/usr/bin/env bats
# dsim-rollback: back to the previous or a named revision, with the rollout
# machinery of dsim-deploy, and every message the program prints.

load helper
bats_require_minimum_version 1.5.0

PROG=dsim-rollback

# The history as "revision version cause status current" lines.
history() {
	dsim-status --history | jq -r '[.revision, .version, .cause, .status,
	    .current] | join(" ")'
}

# A world deployed from 1.0.0 to each VERSION in turn (2.0.0 if none):
# deployed [VERSION...]
deployed() {
	local v

	world
	for v in "${@:-2.0.0}"; do
		dsim-deploy -q --version "$v"
	done
}

# --- back to the previous version --------------------------------------------

@test "a rollback after a deploy succeeds and exits 0" {
	deployed
	run --separate-stderr dsim-rollback
	assert_success
	assert_equal "$(field deploy.result .status)" succeeded
	assert_equal "$(field deploy.result .from_version)" 2.0.0
	assert_equal "$(field deploy.result .to_version)" 1.0.0
	assert_equal "$stderr" ""
}

@test "after a rollback every instance is ready on the previous version" {
	deployed
	dsim-rollback >/dev/null
	run --separate-stderr dsim-status
	assert_equal "$(field world .version)" 1.0.0
	assert_equal "$(field world .instances)" 6
	assert_equal "$(count instance '.version == "1.0.0" and .ready')" 6
}

@test "a rollback writes the deploy records with operation rollback" {
	deployed
	run --separate-stderr dsim-rollback
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r .kind | uniq |
	    paste -sd' ')" "deploy.plan deploy.step deploy.result"
	assert_equal "$(printf '%s\n' "$output" | jq -r .operation | sort -u)" \
	    rollback
	assert_equal "$(field deploy.plan .to_version)" 1.0.0
	assert_equal "$(field deploy.plan .revision)" 3
}

@test "a rollback creates a new revision with cause rollback" {
	deployed
	dsim-rollback >/dev/null
	assert_equal "$(history)" "$(printf '%s\n' \
	    "1 1.0.0 init succeeded false" \
	    "2 2.0.0 deploy succeeded false" \
	    "3 1.0.0 rollback succeeded true")"
}

@test "rolling back twice returns to the version rolled back from" {
	deployed
	dsim-rollback >/dev/null
	run --separate-stderr dsim-rollback
	assert_success
	assert_equal "$(field deploy.result .to_version)" 2.0.0
	assert_equal "$(field deploy.result .revision)" 4
	run --separate-stderr dsim-status
	assert_equal "$(count instance '.version == "2.0.0" and .ready')" 6
}

@test "every step of a rollback keeps instances minus max-unavailable ready" {
	deployed
	run --separate-stderr dsim-rollback
	assert_success
	[ "$(count deploy.step 'true')" -gt 0 ]
	assert_equal "$(count deploy.step '.min_ready < 6 - 1')" 0
	assert_equal "$(count deploy.step '.instances > 6 + 2')" 0
	assert_equal "$(field deploy.result '.min_available >= 6 - 1')" true
}

@test "a rollback takes the rollout options" {
	deployed
	run --separate-stderr dsim-rollback --max-unavailable 0 --max-surge 1 \
	    --health-timeout 90s --max-failures 1
	assert_success
	assert_equal "$(field deploy.plan '[.max_unavailable, .max_surge,
	    .health_timeout_s, .max_failures] | join(" ")')" "0 1 90 1"
	assert_equal "$(count deploy.step '.min_ready < 6')" 0
}

@test "--to previous is what a rollback does by default" {
	deployed 2.0.0 3.0.0
	run --separate-stderr dsim-rollback --to previous
	assert_success
	assert_equal "$(field deploy.result .to_version)" 2.0.0
}

@test "--to REVISION returns to that revision's version" {
	deployed 2.0.0 3.0.0
	run --separate-stderr dsim-rollback --to 1
	assert_success
	assert_equal "$(field deploy.result .to_version)" 1.0.0
	run --separate-stderr dsim-status
	assert_equal "$(count instance '.version == "1.0.0" and .ready')" 6
}

@test "rolling back to the running version takes no step and adds no revision" {
	deployed
	run --separate-stderr dsim-rollback --to 2
	assert_success
	assert_equal "$(field deploy.result .status)" succeeded
	assert_equal "$(field deploy.result .steps)" 0
	assert_equal "$(dsim-status --history | jq -s length)" 2
}

@test "previous skips a release that was rolled back automatically" {
	deployed
	dsim-chaos inject bad-release --version 3.0.0 >/dev/null
	dsim-deploy -q --version 3.0.0 2>/dev/null || true
	# Now at revision 4, the auto-rollback to 2.0.0; 3.0.0 never worked.
	run --separate-stderr dsim-rollback
	assert_success
	assert_equal "$(field deploy.result .to_version)" 1.0.0
}

@test "a rollback repairs what a deploy with --no-rollback left" {
	world
	dsim-chaos inject bad-release --version 2.0.0 >/dev/null
	dsim-deploy -q --version 2.0.0 --no-rollback 2>/dev/null || true
	run --separate-stderr dsim-rollback
	assert_success
	assert_equal "$(field deploy.result .to_version)" 1.0.0
	run --separate-stderr dsim-status
	assert_equal "$(field world .instances)" 6
	assert_equal "$(count instance 'true')" 6
	assert_equal "$(count instance '.version == "1.0.0" and .ready')" 6
}

@test "a development world rolls back by recreate" {
	world --env development
	dsim-deploy -q -e development --version 2.0.0
	run --separate-stderr dsim-rollback -e development
	assert_success
	assert_equal "$(field deploy.plan .strategy)" recreate
	assert_equal "$(field deploy.result .to_version)" 1.0.0
}

# --- a rollback that fails ---------------------------------------------------

@test "a rollback to a bad release is itself rolled back and exits 1" {
	deployed
	dsim-chaos inject bad-release --version 1.0.0 >/dev/null
	run --separate-stderr dsim-rollback
	assert_failure 1
	assert_equal "$(field deploy.result .status)" rolled_back
	assert_equal "$(field deploy.result .rollback_revision)" 4
	assert_equal "$stderr" "$(printf '%s\n' \
	    "dsim-rollback: production: 3 new instances of 1.0.0 failed health checks (0 allowed); rolling back to 2.0.0" \
	    "dsim-rollback: production: rollback 1.0.0 rolled back: 3 new instances of 1.0.0 failed health checks (0 allowed)")"
}

@test "after a failed rollback the fleet is back on the version it left" {
	deployed
	dsim-chaos inject bad-release --version 1.0.0 >/dev/null
	dsim-rollback >/dev/null 2>&1 || true
	run --separate-stderr dsim-status
	assert_equal "$(field world .version)" 2.0.0
	assert_equal "$(count instance '.version == "2.0.0" and .ready')" 6
	assert_equal "$(field world .instances)" 6
	assert_equal "$(history | tail -n 2)" "$(printf '%s\n' \
	    "3 1.0.0 rollback rolled_back false" \
	    "4 2.0.0 auto-rollback succeeded true")"
}

@test "-q writes no records but keeps the exit status" {
	deployed
	dsim-chaos inject bad-release --version 1.0.0 >/dev/null
	run --separate-stderr dsim-rollback -q
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-rollback: production: rollback 1.0.0 rolled back: 3 new instances of 1.0.0 failed health checks (0 allowed)"
}

# --- dry run -----------------------------------------------------------------

@test "--dry-run writes only the plan of the rollback" {
	deployed
	run --separate-stderr dsim-rollback --dry-run
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r .kind)" deploy.plan
	assert_equal "$(field deploy.plan '[.operation, .to_version,
	    .dry_run] | join(" ")')" "rollback 1.0.0 true"
}

@test "--dry-run changes nothing in the world" {
	deployed
	before_status=$(dsim-status; dsim-status --history)
	before_files=$(state_digest)
	run --separate-stderr dsim-rollback --dry-run
	assert_success
	assert_equal "$(dsim-status; dsim-status --history)" "$before_status"
	assert_equal "$(state_digest)" "$before_files"
}

# --- nowhere to go -----------------------------------------------------------

@test "a rollback right after init has nowhere to go and exits 65" {
	world
	run --separate-stderr dsim-rollback
	assert_failure 65
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-rollback: production: no earlier revision to roll back to"
}

@test "a rollback with nowhere to go changes nothing" {
	world
	before=$(state_digest)
	run --separate-stderr dsim-rollback
	assert_failure 65
	assert_equal "$(state_digest)" "$before"
}

@test "--to a revision not in the history exits 65" {
	deployed
	run --separate-stderr dsim-rollback --to 9
	assert_failure 65
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-rollback: --to: no revision 9 in the history (see dsim-status --history)"
}

@test "a rollback with no world exits 66 and says how to create it" {
	run --separate-stderr dsim-rollback
	assert_failure 66
	assert_equal "$stderr" "dsim-rollback: production: no such world; create it with dsim-init --env production"
}

# --- usage -------------------------------------------------------------------

@test "--to that is neither previous nor a revision number is a usage error" {
	deployed
	for to in abc 0 -1 1.5 ''; do
		usage_error "--to: '$to' is neither previous nor a revision number" \
		    --to "$to"
	done
}

@test "options only a deploy takes are unknown to a rollback" {
	deployed
	for opt in --rolling --recreate --no-rollback; do
		usage_error "unknown option '$opt'" "$opt"
	done
}

@test "max-unavailable and max-surge both 0 is a usage error" {
	deployed
	usage_error "--max-unavailable: max-unavailable and max-surge cannot both be 0 (for 6 instances)" \
	    --max-unavailable 0 --max-surge 0
}

@test "a percentage over 100 is a usage error" {
	deployed
	usage_error "--max-surge: '200%' is not a percentage from 0% to 100%" \
	    --max-surge 200%
}

@test "a bad health timeout is a usage error" {
	deployed
	usage_error "--health-timeout: 'soon' is not a duration (such as 90s, 2m, 1m30s)" \
	    --health-timeout soon
}

@test "an operand is a usage error" {
	deployed
	usage_error "unexpected argument '1'" 1
}

@test "--to without a value is a usage error" {
	usage_error "option '--to' needs a value" --to
}

@test "a usage error changes nothing in the world" {
	deployed
	before=$(state_digest)
	run --separate-stderr dsim-rollback --to abc
	assert_failure 64
	assert_equal "$(state_digest)" "$before"
}

@test "-V prints the program's version and exits 0" {
	run --separate-stderr dsim-rollback -V
	assert_success
	assert_equal "$output" "dsim-rollback (dsim) 0.1.0"
	assert_equal "$stderr" ""
}

@test "--version prints the program's version and exits 0" {
	run --separate-stderr dsim-rollback --version
	assert_success
	assert_equal "$output" "dsim-rollback (dsim) 0.1.0"
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr dsim-rollback --help
	assert_success
	assert_regex "${lines[0]}" '^usage: dsim-rollback '
	assert_equal "$stderr" ""
}

@test "a rollback that cannot write its records exits 74" {
	deployed
	run --separate-stderr sh -c "dsim-rollback >/dev/full"
	assert_failure 74
	assert_equal "$stderr" "dsim-rollback: stdout: write error: No space left on device"
}
