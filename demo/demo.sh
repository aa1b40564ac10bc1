#!/bin/sh
# Rehearse a release on a simulated production world: a good rolling
# deploy, a bad release that rolls itself back, and the final status.
# The world lives in a temporary state home, removed at the end.
set -u

DSIM_HOME=$(mktemp -d)
export DSIM_HOME
trap 'rm -rf "$DSIM_HOME"' EXIT

say() {
	printf '\n== %s\n' "$*"
}

say "a production world: 6 Node.js instances of 1.0.0, PostgreSQL 14 with 2 replicas"
dsim init --env production --seed 42 --start 2026-12-03T14:00:00Z --format text

say "a good release: rolling deploy of 1.1.0"
dsim deploy --version 1.1.0 --format text
echo "exit status $?"

say "a bad release: 2.0.0 fails its health checks"
dsim chaos inject bad-release --version 2.0.0 --format text
dsim deploy --version 2.0.0 --format text
echo "exit status $? (the deploy rolled back by itself)"

say "the world afterwards"
dsim status --format text

say "its revision history"
dsim status --history --format text
