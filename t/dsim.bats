#!/usr/bin/env bats
# dsim, the dispatcher, and the conventions every program keeps.

load helper
bats_require_minimum_version 1.5.0

PROGRAMS="dsim dsim-init dsim-status dsim-deploy dsim-rollback dsim-chaos
dsim-backup dsim-metrics dsim-alert"
WORLD_PROGRAMS="dsim-init dsim-status dsim-deploy dsim-rollback dsim-chaos
dsim-backup dsim-metrics dsim-alert"

# Put an executable dsim-NAME that prints its arguments on PATH: plugin NAME
plugin() {
	mkdir -p "$BATS_TEST_TMPDIR/plugins"
	printf '#!/bin/sh\nprintf "%%s\\n" "$@"\nexit 3\n' \
	    >"$BATS_TEST_TMPDIR/plugins/dsim-$1"
	chmod 755 "$BATS_TEST_TMPDIR/plugins/dsim-$1"
	PATH="$BATS_TEST_TMPDIR/plugins:$PATH"
}

@test "dsim status runs dsim-status" {
	world
	expected=$(dsim-status)

	run --separate-stderr dsim status
	assert_success
	assert_equal "$output" "$expected"
	assert_equal "$stderr" ""
}

@test "dsim passes options after the command to the command" {
	world

	run --separate-stderr dsim status --history
	assert_success
	assert_equal "$(records revision | jq -r .version)" "1.0.0"
	assert_equal "$(records world)" ""
}

@test "dsim passes the command's usage error through" {
	run --separate-stderr dsim deploy
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim-deploy: --version V is required
Try 'dsim-deploy --help' for more information."
}

@test "dsim passes the command's exit status through" {
	run --separate-stderr dsim status
	assert_failure 66
	assert_equal "$stderr" "dsim-status: production: no such world; create it with dsim-init --env production"
}

@test "dsim help lists the commands" {
	run --separate-stderr dsim help
	assert_success
	for c in init status deploy rollback chaos backup metrics alert; do
		assert_line --regexp "^  $c +[a-z]"
	done
	assert_equal "$stderr" ""
}

@test "dsim help COMMAND prints the command's help" {
	expected=$(dsim-deploy --help)

	run --separate-stderr dsim help deploy
	assert_success
	assert_equal "$output" "$expected"
	assert_regex "${lines[0]}" '^usage: dsim-deploy '
}

@test "dsim help with an unknown command is a usage error" {
	run --separate-stderr dsim help nosuch
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim: 'nosuch' is not a dsim command (see dsim help)
Try 'dsim --help' for more information."
}

@test "dsim with an unknown command is a usage error" {
	run --separate-stderr dsim nosuch
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim: 'nosuch' is not a dsim command (see dsim help)
Try 'dsim --help' for more information."
}

@test "dsim without a command is a usage error" {
	run --separate-stderr dsim
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim: a command is needed (see dsim help)
Try 'dsim --help' for more information."
}

@test "dsim finds a command on PATH and passes its arguments and status" {
	plugin hello

	run --separate-stderr dsim hello a 'b c'
	assert_failure 3
	assert_equal "$output" "a
b c"
}

@test "dsim runs the commands beside it before those on PATH" {
	plugin status
	world

	run --separate-stderr dsim status
	assert_success
	assert_equal "$(records world | jq -r .env)" "production"
}

@test "dsim reports a command it cannot run" {
	plugin hello
	chmod 644 "$BATS_TEST_TMPDIR/plugins/dsim-hello"

	run --separate-stderr dsim hello
	assert_failure 69
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim: dsim-hello: cannot run: Permission denied"
}

@test "dsim --version prints the package's version" {
	run --separate-stderr dsim --version
	assert_success
	assert_equal "$output" "dsim (dsim) 0.1.0"
	assert_equal "$stderr" ""
}

@test "dsim names a flag given a value" {
	run --separate-stderr dsim --help=1
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "$stderr" "dsim: option '--help' takes no value
Try 'dsim --help' for more information."
}

@test "every program prints its usage with --help" {
	for p in $PROGRAMS; do
		run --separate-stderr "$p" --help
		assert_success
		assert_regex "${lines[0]}" "^usage: $p "
		assert_equal "$stderr" ""
	done
}

@test "every program prints its version with --version" {
	for p in $PROGRAMS; do
		run --separate-stderr "$p" --version
		assert_success
		assert_equal "$output" "$p (dsim) 0.1.0"
		assert_equal "$stderr" ""
	done
}

@test "every program prints its version with -V" {
	for p in $PROGRAMS; do
		run --separate-stderr "$p" -V
		assert_success
		assert_equal "$output" "$p (dsim) 0.1.0"
	done
}

@test "-V prints the version where --version takes a value" {
	for p in dsim-deploy dsim-chaos; do
		run --separate-stderr "$p" -V --version 2.0.0
		assert_success
		assert_equal "$output" "$p (dsim) 0.1.0"
	done
}

@test "every program refuses an unknown option" {
	for p in $PROGRAMS; do
		run --separate-stderr "$p" --x
		assert_failure 64
		assert_equal "$output" ""
		assert_equal "$stderr" "$p: unknown option '--x'
Try '$p --help' for more information."
	done
}

@test "every program names a long option missing its value" {
	for p in $WORLD_PROGRAMS; do
		run --separate-stderr "$p" --env
		assert_failure 64
		assert_equal "$stderr" "$p: option '--env' needs a value
Try '$p --help' for more information."
	done
}

@test "every program names a short option missing its value" {
	for p in $WORLD_PROGRAMS; do
		run --separate-stderr "$p" -e
		assert_failure 64
		assert_equal "$stderr" "$p: option '-e' needs a value
Try '$p --help' for more information."
	done
}

@test "every program names a flag given a value" {
	for p in $WORLD_PROGRAMS; do
		run --separate-stderr "$p" --quiet=1
		assert_failure 64
		assert_equal "$stderr" "$p: option '--quiet' takes no value
Try '$p --help' for more information."
	done
}

@test "every program lists its options one per line" {
	for p in $PROGRAMS; do
		run --separate-stderr "$p" --list-options
		assert_success
		assert_line "--help"
		assert_line --regexp '^--version=?$'
		for l in "${lines[@]}"; do
			assert_regex "$l" '^--[a-z][a-z-]*=?$'
		done
	done
	for p in $WORLD_PROGRAMS; do
		run --separate-stderr "$p" --list-options
		assert_line "--env="
		assert_line "--quiet"
	done
}

@test "every program's option list agrees with its --help" {
	for p in $PROGRAMS; do
		help=$("$p" --help)
		run --separate-stderr "$p" --list-options
		assert_success
		for l in "${lines[@]}"; do
			if [[ $l == *= ]]; then
				assert_regex "$help" "${l%=} [^ ]"
			else
				assert_regex "$help" "$l  "
			fi
		done
	done
}
