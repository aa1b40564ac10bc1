#!/usr/bin/env bats
# The documentation agrees with the programs: man pages are clean, name
# every option, and their examples run; completions cover every program.

load helper

PROGRAMS="dsim dsim-init dsim-status dsim-deploy dsim-rollback dsim-chaos
dsim-backup dsim-metrics dsim-alert"

# The command lines of a man page's EXAMPLES section, without "$ ".
examples() {
	awk '/^\.Sh EXAMPLES/ { on = 1; next } /^\.Sh / { on = 0 }
	    on && /^\$ / { print substr($0, 3) }' "$1"
}

@test "every man page is clean under mandoc -Tlint" {
	for page in "$DSIM_SRCDIR"/man/*.[17]; do
		run mandoc -Tlint -W warning "$page"
		assert_success
		assert_output ""
	done
}

@test "every man page has the sections STYLE.md asks for" {
	for page in "$DSIM_SRCDIR"/man/*.1; do
		for sh in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT \
		    "EXIT STATUS" EXAMPLES "SEE ALSO"; do
			grep -q "^\.Sh $sh\$" "$page" ||
			    fail "$page lacks $sh"
		done
	done
}

@test "every option a program takes is in its man page" {
	for prog in $PROGRAMS; do
		run "$prog" --list-options
		assert_success
		for opt in $output; do
			name=${opt#--}
			name=${name%=}
			grep -q -- "Fl -$name\\b\|Fl $name\\b\|-$name\\b" \
			    "$DSIM_SRCDIR/man/$prog.1" ||
			    fail "$prog: --$name is not in man/$prog.1"
		done
	done
}

@test "every program's man page lists success and the usage status" {
	for prog in $PROGRAMS; do
		section=$(awk '/^\.Sh EXIT STATUS/ { on = 1; next }
		    /^\.Sh / { on = 0 } on' "$DSIM_SRCDIR/man/$prog.1")
		grep -qw 0 <<<"$section" || fail "$prog.1 does not list 0"
		grep -qw 64 <<<"$section" || fail "$prog.1 does not list 64"
	done
}

@test "the examples of every man page run and succeed" {
	for page in "$DSIM_SRCDIR"/man/*.1; do
		script=$BATS_TEST_TMPDIR/$(basename "$page").sh
		{
			echo 'set -eo pipefail'
			examples "$page"
		} >"$script"
		DSIM_HOME=$BATS_TEST_TMPDIR/$(basename "$page") \
		    run bash "$script"
		[ "$status" -eq 0 ] ||
		    fail "$(basename "$page") examples exit $status: $output"
	done
}

@test "every program has a bash completion" {
	for prog in $PROGRAMS; do
		grep -q -- "$prog" "$DSIM_SRCDIR/completions/dsim" ||
		    fail "$prog is not completed"
	done
}

@test "the bash completion offers a program's own options" {
	run bash -c "source '$DSIM_SRCDIR/completions/dsim'
		COMP_WORDS=(dsim-deploy --max-s); COMP_CWORD=1
		_dsim dsim-deploy --max-s dsim-deploy
		printf '%s\n' \"\${COMPREPLY[@]}\""
	assert_success
	assert_output --partial "--max-surge="
}

@test "the zsh completion names every program" {
	for prog in $PROGRAMS; do
		grep -q -- "$prog" "$DSIM_SRCDIR/completions/_dsim" ||
		    fail "$prog is not in completions/_dsim"
	done
}
