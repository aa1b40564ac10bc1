# Shared set-up for the bats suite: the programs under test come first on
# PATH, and every test gets a state home of its own.

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

: "${DSIM_BINDIR:=$BATS_TEST_DIRNAME/../bin}"
: "${DSIM_DATADIR:=$BATS_TEST_DIRNAME/../share/dsim}"
: "${DSIM_SRCDIR:=$BATS_TEST_DIRNAME/..}"
export DSIM_BINDIR DSIM_DATADIR DSIM_SRCDIR
export PATH="$DSIM_BINDIR:$PATH"

# A fixed clock and seed make every run's records the same.
START=2026-01-01T00:00:00Z

setup() {
	export DSIM_HOME="$BATS_TEST_TMPDIR/state"
	export DSIM_ACTOR="tester@bats"
	unset DSIM_ENV DSIM_STATE XDG_STATE_HOME
}

# Create a production world: world [extra dsim-init options...]
world() {
	dsim-init --seed 7 --start "$START" "$@" >/dev/null
}

# The records of one kind from $output: records KIND
records() {
	printf '%s\n' "$output" | jq -c --arg k "$1" 'select(.kind == $k)'
}

# One member of the single record of a kind: field KIND FILTER
field() {
	printf '%s\n' "$output" | jq -r --arg k "$1" "select(.kind == \$k) | $2"
}

# How many records of a kind in $output pass a jq test: count KIND TEST
count() {
	printf '%s\n' "$output" |
	    jq -s --arg k "$1" "map(select(.kind == \$k) | select($2)) | length"
}

# The names and contents of the world's files, leaving out the lock file,
# which names the last holder rather than the world.
state_digest() {
	(cd "$DSIM_HOME" && find . | LC_ALL=C sort &&
	    find . -type f ! -name '*.lock' -exec sha256sum {} + |
	    LC_ALL=C sort)
}

# Run $PROG expecting a usage error: the message, then the hint.
# usage_error MESSAGE ARG...
usage_error() {
	local msg=$1

	shift
	run --separate-stderr "$PROG" "$@"
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "$stderr" "$(printf '%s\n' "$PROG: $msg" \
	    "Try '$PROG --help' for more information.")"
}
