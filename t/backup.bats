#!/usr/bin/env bats
# dsim-backup on the simulated database: archives, the repository and its
# lock, verify, restore into the simulation, prune, and the faults an
# operator meets at night (full disk, kill -9, overlapping runs, damage).

load helper
bats_require_minimum_version 1.5.0

# Backups made at a given simulated time into $REPO: at TIME...
at() {
	local t
	for t in "$@"; do
		dsim-init --seed 7 --start "$t" --force --db-size 200 >/dev/null
		dsim-backup create --repo "$REPO" -q
	done
}

# The id of the newest backup in $REPO.
newest() {
	dsim-backup list --repo "$REPO" | jq -r .id | tail -n 1
}

# Overwrite one byte of a file: corrupt FILE OFFSET
corrupt() {
	local old
	old=$(od -An -tx1 -j "$2" -N1 "$1" | tr -d ' ')
	if [ "$old" = 55 ]; then
		printf '\x66'
	else
		printf '\x55'
	fi | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Where a member's data starts in an uncompressed tar: offset TAR NAME
offset() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        if m.name == sys.argv[2]:
            print(m.offset_data)
PY
}

# Run dsim-backup expecting a usage error: usage_error MSG ARG...
usage_error() {
	local msg=$1
	shift
	run --separate-stderr dsim-backup "$@"
	assert_failure 64
	assert_equal "$output" ""
	assert_equal "$stderr" "$(printf '%s\n' "dsim-backup: $msg" \
	    "Try 'dsim-backup --help' for more information.")"
}

setup() {
	export DSIM_HOME="$BATS_TEST_TMPDIR/state"
	export DSIM_ACTOR="tester@bats"
	unset DSIM_ENV DSIM_STATE XDG_STATE_HOME DSIM_BACKUP_REPO
	unset DSIM_BACKUP_SOURCE DSIM_BACKUP_COPY_TO
	REPO=$BATS_TEST_TMPDIR/repo
}

# --- create --------------------------------------------------------------

@test "create writes one backup record for the simulated database" {
	world --db-size 1000
	run --separate-stderr dsim-backup create
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(records backup | wc -l)" 1
	assert_equal "$(field backup '[.id, .source, .tables, .rows,
	    .members, .created] | join(" ")')" \
	    "20260101T000000Z sim 2 1000 5 2026-01-01T00:00:00.000Z"
	assert_equal "$(field backup .server_version)" \
	    "PostgreSQL 14 (simulated)"
	assert_equal "$(field backup .repo)" "$DSIM_HOME/production/backups"
}

@test "the record's sha256 and size are those of the archive file" {
	world
	run dsim-backup create
	assert_success
	file=$DSIM_HOME/production/backups/$(field backup .id).tar.zst
	assert_equal "$(field backup .sha256)" \
	    "$(sha256sum "$file" | cut -d' ' -f1)"
	assert_equal "$(field backup .size)" "$(stat -c %s "$file")"
}

@test "the archive is a tar that tar --zstd reads, manifest last" {
	world
	dsim-backup create --repo "$REPO" -q
	run tar --zstd -tf "$REPO/$(newest).tar.zst"
	assert_success
	assert_equal "$output" "schema.sql
data/000-public.users.0000.copy
data/001-public.orders.0000.copy
post-data.sql
manifest.json"
}

@test "every member's SHA-256 in the manifest is sha256sum's" {
	world
	dsim-backup create --repo "$REPO" -q
	mkdir "$BATS_TEST_TMPDIR/x"
	tar --zstd -xf "$REPO/$(newest).tar.zst" -C "$BATS_TEST_TMPDIR/x"
	cd "$BATS_TEST_TMPDIR/x"
	run bash -c "jq -r '.members[] | \"\(.sha256)  \(.name)\"' \
	    manifest.json | sha256sum -c"
	assert_success
	assert_equal "$(jq '.members | length' manifest.json)" 4
}

@test "the manifest holds the format, source, snapshot and row counts" {
	world --db-size 500
	dsim-backup create --repo "$REPO" -q
	run tar --zstd -xOf "$REPO/$(newest).tar.zst" manifest.json
	assert_success
	assert_equal "$(jq -r '[.format, .source, .snapshot,
	    (.tables | map("\(.name)=\(.rows)") | join(","))] | join(" ")' \
	    <<<"$output")" \
	    "dsim-backup/1 sim sim@2026-01-01T00:00:00.000Z users=100,orders=400"
}

@test "a copy of the manifest lies beside the archive" {
	world
	dsim-backup create --repo "$REPO" -q
	id=$(newest)
	tar --zstd -xOf "$REPO/$id.tar.zst" manifest.json >"$BATS_TEST_TMPDIR/m"
	run jq -c 'del(.finished, .duration_ms, .manifest_sha256, .archive)' \
	    "$REPO/$id.json"
	assert_equal "$output" "$(jq -c . "$BATS_TEST_TMPDIR/m")"
	assert_equal "$(jq -r .manifest_sha256 "$REPO/$id.json")" \
	    "$(sha256sum <"$BATS_TEST_TMPDIR/m" | cut -d' ' -f1)"
}

@test "the same seed gives a byte-identical archive" {
	world
	dsim-backup create --repo "$REPO" -q
	DSIM_HOME=$BATS_TEST_TMPDIR/other world
	DSIM_HOME=$BATS_TEST_TMPDIR/other dsim-backup create \
	    --repo "$BATS_TEST_TMPDIR/r2" -q
	cmp "$REPO/20260101T000000Z.tar.zst" \
	    "$BATS_TEST_TMPDIR/r2/20260101T000000Z.tar.zst"
}

@test "the stress values of the simulated users table are in COPY text" {
	world --db-size 2000
	dsim-backup create --repo "$REPO" -q
	run tar --zstd -xOf "$REPO/$(newest).tar.zst" \
	    data/000-public.users.0000.copy
	assert_output --partial 'tab\there'
	assert_output --partial 'naïve café ☕'
	assert_output --regexp $'\t\\\\N\t'
}

@test "--compression gzip and none write .tar.gz and .tar archives" {
	world
	dsim-backup create --repo "$REPO" --compression gzip -q
	dsim-backup create --repo "$REPO" --compression none -q
	run ls "$REPO"
	assert_line 20260101T000000Z.tar.gz
	assert_line 20260101T000000Z-2.tar
	tar -tzf "$REPO/20260101T000000Z.tar.gz" >/dev/null
	tar -tf "$REPO/20260101T000000Z-2.tar" >/dev/null
}

@test "a second backup in the same second gets the id with -2" {
	world
	dsim-backup create --repo "$REPO" -q
	run dsim-backup create --repo "$REPO"
	assert_equal "$(field backup .id)" 20260101T000000Z-2
}

@test "--jobs 3 makes the same archive as one job" {
	world --db-size 3000
	dsim-backup create --repo "$REPO" -q
	dsim-backup create --repo "$REPO" --jobs 3 -q
	assert_equal "$(jq -c .members "$REPO/20260101T000000Z.json")" \
	    "$(jq -c .members "$REPO/20260101T000000Z-2.json")"
}

@test "a table larger than a part is cut into members that join up" {
	world --db-size 300000
	dsim-backup create --repo "$REPO" -q
	run tar --zstd -tf "$REPO/$(newest).tar.zst"
	assert_line data/001-public.orders.0000.copy
	assert_line data/001-public.orders.0001.copy
	assert_equal "$(tar --zstd -xOf "$REPO/$(newest).tar.zst" \
	    --wildcards 'data/001-*' | wc -l)" 240000
}

@test "peak memory stays under 64 MiB for 100 MB of table data" {
	world --db-size 2000000
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
	    dsim-backup create --repo "$REPO" -q
	rss=$(cat "$BATS_TEST_TMPDIR/rss")
	bytes=$(jq '[.tables[].bytes] | add' "$REPO/$(newest).json")
	[ "$bytes" -gt 100000000 ] || fail "only $bytes bytes of data"
	[ "$rss" -lt 65536 ] || fail "peak RSS $rss KiB"
}

@test "--quiet writes no record" {
	world
	run --separate-stderr dsim-backup create --quiet
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "DSIM_BACKUP_REPO names the repository" {
	world
	DSIM_BACKUP_REPO=$REPO run dsim-backup create
	assert_success
	assert_equal "$(field backup .repo)" "$REPO"
	[ -f "$REPO/20260101T000000Z.json" ]
}

@test "create without a world exits 66" {
	run --separate-stderr dsim-backup create
	assert_failure 66
	assert_equal "$stderr" "dsim-backup: production: no world for the \
simulated database; run dsim-init first"
}

@test "an unknown --compression is a usage error" {
	usage_error "--compression: 'lz4' is not zstd, gzip or none" \
	    create --compression lz4
}

@test "--jobs 0 is a usage error" {
	usage_error "--jobs: 0 is out of range (1 to 16)" create --jobs 0
}

@test "an option of another command is a usage error" {
	usage_error "create takes no --target" create --target sim
}

@test "an unknown command is a usage error" {
	usage_error "unknown command 'backup' (create, list, verify, restore, \
prune, pin or unpin)" backup
}

@test "no command is a usage error" {
	usage_error "a command is needed: create, list, verify, restore, \
prune, pin or unpin"
}

# --- faults during create --------------------------------------------------

@test "a held repository lock makes create exit 75 at once" {
	world
	mkdir -p "$REPO"
	exec 9>"$REPO/.lock"
	flock -n 9
	run --separate-stderr timeout 5 dsim-backup create --repo "$REPO"
	exec 9>&-
	assert_failure 75
	assert_equal "$stderr" "dsim-backup: $REPO: repository is locked by \
another run; try again later"
	assert_equal "$(ls "$REPO")" ""
}

@test "a full disk during create exits 74, leaves no partial file" {
	world --db-size 50000
	dsim-backup create --repo "$REPO" --compression none -q
	before=$(cd "$REPO" && sha256sum *)
	run --separate-stderr bash -c "ulimit -f 200; dsim-backup create \
	    --repo '$REPO' --compression none"
	assert_failure 74
	assert_equal "$stderr" \
	    "dsim-backup: $REPO/20260101T000000Z-2.tar: File too large"
	assert_equal "$(cd "$REPO" && sha256sum *)" "$before"
	assert_equal "$(ls -A "$REPO" | grep -c tmp)" 0
	run dsim-backup verify --all --repo "$REPO"
	assert_success
}

@test "kill -9 during create leaves no backup, and the next create works" {
	world --db-size 4000000
	dsim-backup create --repo "$REPO" --compression gzip -q &
	pid=$!
	for i in $(seq 200); do
		ls -A "$REPO" 2>/dev/null | grep -q '\.tmp$' && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	run dsim-backup list --repo "$REPO"
	assert_success
	assert_output ""
	dsim-init --seed 7 --start "$START" --force >/dev/null
	run dsim-backup create --repo "$REPO"
	assert_success
	assert_equal "$(dsim-backup list --repo "$REPO" | wc -l)" 1
	assert_equal "$(ls -A "$REPO" | grep -c tmp)" 0
}

# --- list ------------------------------------------------------------------

@test "list writes one record per backup, oldest first" {
	at 2026-01-03T00:00:00Z 2026-01-01T00:00:00Z 2026-01-02T00:00:00Z
	run dsim-backup list --repo "$REPO"
	assert_success
	assert_equal "$(records backup | jq -r .id | paste -sd' ')" \
	    "20260101T000000Z 20260102T000000Z 20260103T000000Z"
}

@test "list of the default repository before any backup prints nothing" {
	world
	run --separate-stderr dsim-backup list
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "list of a --repo that does not exist exits 66" {
	run --separate-stderr dsim-backup list --repo "$REPO"
	assert_failure 66
	assert_equal "$stderr" \
	    "dsim-backup: $REPO: no repository: No such file or directory"
}

# --- verify ----------------------------------------------------------------

@test "verify of an intact backup writes an ok record" {
	world
	dsim-backup create --repo "$REPO" -q
	run --separate-stderr dsim-backup verify --repo "$REPO" "$(newest)"
	assert_success
	assert_equal "$(field backup.verify '[.id, .ok, .members] |
	    join(" ")')" "20260101T000000Z true 5"
	assert_equal "$stderr" ""
}

@test "a corrupted byte in a data member: verify exits 1 naming it" {
	world
	dsim-backup create --repo "$REPO" --compression none -q
	tar=$REPO/$(newest).tar
	corrupt "$tar" $(( $(offset "$tar" data/001-public.orders.0000.copy) + 7 ))
	run --separate-stderr dsim-backup verify --repo "$REPO" --all
	assert_failure 1
	assert_equal "$stderr" "dsim-backup: 20260101T000000Z: member \
data/001-public.orders.0000.copy: SHA-256 does not match the manifest"
	assert_equal "$(field backup.verify '[.ok, .member] | join(" ")')" \
	    "false data/001-public.orders.0000.copy"
}

@test "a corrupted byte anywhere in an archive makes verify exit 1" {
	world --db-size 3000
	dsim-backup create --repo "$REPO" -q
	tar=$REPO/$(newest).tar.zst
	cp "$tar" "$BATS_TEST_TMPDIR/good"
	size=$(stat -c %s "$tar")
	for off in 0 10 100 1000 $((size / 3)) $((size / 2)) $((size - 40)) \
	    $((size - 1)); do
		cp "$BATS_TEST_TMPDIR/good" "$tar"
		corrupt "$tar" "$off"
		run --separate-stderr dsim-backup verify --repo "$REPO" --all
		[ "$status" -eq 1 ] || fail "byte $off: exit $status"
		[[ $stderr == "dsim-backup: 20260101T000000Z: member "* ]] ||
		    fail "byte $off: $stderr"
	done
}

@test "a corrupted byte in a tar header: verify names that member" {
	world
	dsim-backup create --repo "$REPO" --compression none -q
	tar=$REPO/$(newest).tar
	corrupt "$tar" $(( $(offset "$tar" post-data.sql) - 512 + 1 ))
	run --separate-stderr dsim-backup verify --repo "$REPO" --all
	assert_failure 1
	assert_equal "$(field backup.verify .member)" post-data.sql
}

@test "a truncated archive: verify exits 1 naming the member it ends in" {
	world --db-size 3000
	dsim-backup create --repo "$REPO" --compression none -q
	tar=$REPO/$(newest).tar
	truncate -s $(( $(offset "$tar" data/001-public.orders.0000.copy) + 100 )) \
	    "$tar"
	run --separate-stderr dsim-backup verify --repo "$REPO" --all
	assert_failure 1
	assert_equal "$(field backup.verify .member)" \
	    data/001-public.orders.0000.copy
}

@test "a truncated zstd archive makes verify exit 1" {
	world --db-size 3000
	dsim-backup create --repo "$REPO" -q
	tar=$REPO/$(newest).tar.zst
	truncate -s $(( $(stat -c %s "$tar") / 2 )) "$tar"
	run --separate-stderr dsim-backup verify --repo "$REPO" --all
	assert_failure 1
	assert_output --partial '"ok":false'
}

@test "a missing archive file makes verify exit 1" {
	world
	dsim-backup create --repo "$REPO" -q
	rm "$REPO/$(newest).tar.zst"
	run --separate-stderr dsim-backup verify --repo "$REPO" --all
	assert_failure 1
	assert_equal "$stderr" "dsim-backup: 20260101T000000Z: member \
archive: the archive file is missing"
}

@test "verify marks a damaged backup, and a good verify clears the mark" {
	world
	dsim-backup create --repo "$REPO" --compression none -q
	tar=$REPO/$(newest).tar
	cp "$tar" "$BATS_TEST_TMPDIR/good"
	corrupt "$tar" 2000
	dsim-backup verify --repo "$REPO" --all >/dev/null || true
	assert_equal "$(dsim-backup list --repo "$REPO" | jq .damaged)" true
	cp "$BATS_TEST_TMPDIR/good" "$tar"
	dsim-backup verify --repo "$REPO" --all >/dev/null
	assert_equal "$(dsim-backup list --repo "$REPO" | jq .damaged)" false
}

@test "verify --all reports each damaged backup and counts them" {
	at 2026-01-01T00:00:00Z 2026-01-02T00:00:00Z 2026-01-03T00:00:00Z
	corrupt "$REPO/20260101T000000Z.tar.zst" 200
	corrupt "$REPO/20260103T000000Z.tar.zst" 200
	run --separate-stderr dsim-backup verify --repo "$REPO" --all
	assert_failure 1
	assert_equal "$(records backup.verify | jq -r .ok | paste -sd' ')" \
	    "false true false"
	assert_regex "$stderr" \
	    "^dsim-backup: 20260101T000000Z: member .* \\(2 damaged in all\\)$"
}

@test "a manifest beside the archive that differs from the one in it fails" {
	world
	dsim-backup create --repo "$REPO" -q
	id=$(newest)
	jq '.tables[0].rows = 7' "$REPO/$id.json" >"$REPO/$id.new"
	mv "$REPO/$id.new" "$REPO/$id.json"
	run --separate-stderr dsim-backup verify --repo "$REPO" "$id"
	assert_failure 1
	assert_equal "$stderr" "dsim-backup: $id: member manifest.json: \
differs from the manifest beside the archive"
}

@test "restore checks row counts and rolls back when they differ" {
	world
	dsim-backup create --repo "$REPO" -q
	id=$(newest)
	jq '.tables[0].rows = 7' "$REPO/$id.json" >"$REPO/$id.new"
	mv "$REPO/$id.new" "$REPO/$id.json"
	run --separate-stderr dsim-backup restore "$id" --repo "$REPO" \
	    --target sim --clean
	assert_failure 1
	assert_equal "$stderr" "dsim-backup: data/000-public.users.0000.copy: \
2000 rows went in, the manifest says 7"
	[ ! -e "$DSIM_HOME/production/simdb" ]
}

@test "verify of an unknown id exits 66" {
	world
	dsim-backup create --repo "$REPO" -q
	run --separate-stderr dsim-backup verify --repo "$REPO" 20200101T000000Z
	assert_failure 66
	assert_equal "$stderr" \
	    "dsim-backup: 20200101T000000Z: no such backup in $REPO"
}

@test "an id with a slash is a usage error" {
	usage_error "../x: not a backup id (letters, digits and '-' only)" \
	    verify --repo "$REPO" ../x
}

@test "verify with both an id and --all is a usage error" {
	usage_error "verify needs a backup id or --all, not both" \
	    verify --all 20260101T000000Z
}

# --- restore into the simulation ---------------------------------------------

@test "pin needs a backup id" {
	usage_error "pin needs a backup id" pin
}

@test "a second operand is a usage error" {
	usage_error "unexpected argument 'extra'" list extra
}

@test "restore needs --target" {
	usage_error "restore needs --target (sim, or a connection string)" \
	    restore 20260101T000000Z
}

@test "restore into sim without --clean exits 73 and changes nothing" {
	world
	dsim-backup create --repo "$REPO" -q
	before=$(find "$DSIM_HOME" -type f ! -name '*.lock' | sort)
	run --separate-stderr dsim-backup restore "$(newest)" --repo "$REPO" \
	    --target sim
	assert_failure 73
	assert_equal "$stderr" "dsim-backup: sim: the simulated database is \
not empty; use --clean to replace its contents"
	assert_equal "$(find "$DSIM_HOME" -type f ! -name '*.lock' | sort)" \
	    "$before"
}

@test "restore --target sim --clean brings a backup's data back" {
	world --db-size 2000
	dsim-backup create --repo "$REPO" -q
	a=$(newest)
	dsim-init --seed 8 --start "$START" --force --db-size 500 >/dev/null
	run dsim-backup restore "$a" --repo "$REPO" --target sim --clean
	assert_success
	assert_equal "$(field backup.restore '[.id, .target, .tables, .rows] |
	    join(" ")')" "$a sim 2 2000"
	dsim-backup create --repo "$REPO" -q
	b=$(newest)
	assert_equal "$(jq -c '[.members[] | .sha256]' "$REPO/$b.json")" \
	    "$(jq -c '[.members[] | .sha256]' "$REPO/$a.json")"
}

@test "restore of a damaged archive is refused and the target is unchanged" {
	world
	dsim-backup create --repo "$REPO" --compression none -q
	id=$(newest)
	tar=$REPO/$id.tar
	corrupt "$tar" $(( $(offset "$tar" data/000-public.users.0000.copy) + 3 ))
	before=$(find "$DSIM_HOME" -type f ! -name '*.lock' | sort)
	run --separate-stderr dsim-backup restore "$id" --repo "$REPO" \
	    --target sim --clean
	assert_failure 1
	assert_equal "$stderr" "dsim-backup: $id: member \
data/000-public.users.0000.copy: SHA-256 does not match the manifest; \
refusing to restore"
	assert_equal "$(find "$DSIM_HOME" -type f ! -name '*.lock' | sort)" \
	    "$before"
}

# Rewrite a backup's archive with one member renamed; the manifest beside
# it is updated too when the last argument is "both".
rename_member() {
	local id=$1 from=$2 to=$3 both=${4:-}
	/usr/bin/python3 - "$REPO/$id.tar" "$from" "$to" <<'PY'
import io, sys, tarfile
path, old, new = sys.argv[1:4]
with tarfile.open(path) as t:
    members = [(m, t.extractfile(m).read()) for m in t]
with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
    for m, data in members:
        if m.name == old:
            m.name = new
        t.addfile(m, io.BytesIO(data))
PY
	local sha size
	sha=$(sha256sum "$REPO/$id.tar" | cut -d' ' -f1)
	size=$(stat -c %s "$REPO/$id.tar")
	jq --arg s "$sha" --argjson z "$size" --arg from "$from" \
	    --arg to "$to" --arg both "$both" \
	    '.archive.sha256 = $s | .archive.size = $z |
	    if $both == "both" then .members |= map(if .name == $from
	    then .name = $to else . end) else . end' \
	    "$REPO/$id.json" >"$REPO/$id.json.new"
	mv "$REPO/$id.json.new" "$REPO/$id.json"
}

@test "a member with an absolute path is refused on restore" {
	world
	dsim-backup create --repo "$REPO" --compression none -q
	id=$(newest)
	rename_member "$id" schema.sql /etc/dsim-schema.sql both
	run --separate-stderr dsim-backup restore "$id" --repo "$REPO" \
	    --target sim --clean
	assert_failure 65
	assert_equal "$stderr" "dsim-backup: /etc/dsim-schema.sql: member \
path is absolute or climbs with '..'; refused"
	[ ! -e "$DSIM_HOME/production/simdb" ]
}

@test "a member whose path climbs with .. is refused on restore" {
	world
	dsim-backup create --repo "$REPO" --compression none -q
	id=$(newest)
	rename_member "$id" post-data.sql data/../../post-data.sql
	run --separate-stderr dsim-backup restore "$id" --repo "$REPO" \
	    --target sim --clean
	assert_failure 65
	assert_equal "$stderr" "dsim-backup: data/../../post-data.sql: member \
path is absolute or climbs with '..'; refused"
	[ ! -e "$DSIM_HOME/production/simdb" ]
}

@test "a member that is not the one the manifest expects fails verify" {
	world
	dsim-backup create --repo "$REPO" --compression none -q
	id=$(newest)
	rename_member "$id" post-data.sql data/post-data.sql
	run --separate-stderr dsim-backup verify --repo "$REPO" "$id"
	assert_failure 1
	assert_equal "$stderr" "dsim-backup: $id: member post-data.sql: \
member 'data/post-data.sql' is in its place"
}

# --- prune and pin -----------------------------------------------------------

@test "prune exits 75 while a restore or verify reads the repository" {
	at 2026-01-01T00:00:00Z 2026-01-02T00:00:00Z
	exec 9>"$REPO/.readers"
	flock -s -n 9
	run --separate-stderr timeout 5 dsim-backup prune --repo "$REPO" \
	    --keep-last 1
	exec 9>&-
	assert_failure 75
	assert_equal "$stderr" "dsim-backup: $REPO: a restore or verify is \
reading the repository; try again later"
	assert_equal "$(dsim-backup list --repo "$REPO" | wc -l)" 2
}

@test "verify waits for a prune to end rather than read what it removes" {
	at 2026-01-01T00:00:00Z
	exec 9>"$REPO/.readers"
	flock -n 9
	dsim-backup verify --repo "$REPO" --all >"$BATS_TEST_TMPDIR/out" 9>&- &
	pid=$!
	sleep 0.5
	kill -0 "$pid" || fail "verify did not wait for the lock"
	exec 9>&-
	wait "$pid"
	assert_equal "$(jq -r .ok "$BATS_TEST_TMPDIR/out")" true
}

@test "prune needs a rule" {
	usage_error "prune needs at least one --keep-* rule" prune --dry-run
}

@test "a --keep-within that is not a duration is a usage error" {
	usage_error "--keep-within: 'soon' is not a duration (such as 7d, 36h, \
90m)" prune --keep-within soon
}

@test "prune --keep-last 2 removes all but the two newest" {
	at 2026-01-01T00:00:00Z 2026-01-02T00:00:00Z 2026-01-03T00:00:00Z \
	    2026-01-04T00:00:00Z
	run dsim-backup prune --repo "$REPO" --keep-last 2
	assert_success
	assert_equal "$(records backup.prune | jq -r '"\(.id) \(.action)"')" \
"20260101T000000Z remove
20260102T000000Z remove
20260103T000000Z keep
20260104T000000Z keep"
	assert_equal "$(ls "$REPO" | grep -c 2026010[12])" 0
	assert_equal "$(dsim-backup list --repo "$REPO" | wc -l)" 2
}

@test "prune --keep-daily keeps the newest backup of each day" {
	at 2026-01-01T01:00:00Z 2026-01-01T05:00:00Z 2026-01-02T01:00:00Z \
	    2026-01-02T09:00:00Z 2026-01-03T03:00:00Z
	run dsim-backup prune --repo "$REPO" --keep-daily 2
	assert_success
	assert_equal "$(records backup.prune | jq -r \
	    '"\(.id) \(.action) \(.reasons | join(","))"')" \
"20260101T010000Z remove matched no rule
20260101T050000Z remove matched no rule
20260102T010000Z remove matched no rule
20260102T090000Z keep daily 2026-01-02
20260103T030000Z keep newest verified,daily 2026-01-03"
}

@test "prune combines hourly, weekly and monthly buckets" {
	at 2025-11-15T00:00:00Z 2025-12-20T00:00:00Z 2025-12-30T00:00:00Z \
	    2026-01-05T10:00:00Z 2026-01-05T11:10:00Z 2026-01-05T11:20:00Z
	run dsim-backup prune --repo "$REPO" --keep-hourly 2 --keep-weekly 2 \
	    --keep-monthly 3 --dry-run
	assert_success
	assert_equal "$(records backup.prune | jq -r \
	    '"\(.id) \(.action) \(.reasons | join(","))"')" \
"20251115T000000Z keep monthly 2025-11
20251220T000000Z remove matched no rule
20251230T000000Z keep weekly 2026-W01,monthly 2025-12
20260105T100000Z keep hourly 2026-01-05T10
20260105T111000Z remove matched no rule
20260105T112000Z keep newest verified,hourly 2026-01-05T11,weekly \
2026-W02,monthly 2026-01"
}

@test "--keep-within keeps every backup that close to the newest" {
	at 2026-01-01T00:00:00Z 2026-01-05T00:00:00Z 2026-01-06T00:00:00Z
	run dsim-backup prune --repo "$REPO" --keep-within 2d --dry-run
	assert_equal "$(records backup.prune | jq -r .action | paste -sd' ')" \
	    "remove keep keep"
}

@test "--dry-run says what would go and removes nothing" {
	at 2026-01-01T00:00:00Z 2026-01-02T00:00:00Z
	before=$(ls -A "$REPO")
	run dsim-backup prune --repo "$REPO" --keep-last 1 --dry-run
	assert_success
	assert_equal "$(field backup.prune 'select(.action == "remove") |
	    [.id, .dry_run, .reasons[0]] | join(" ")')" \
	    "20260101T000000Z true matched no rule"
	assert_equal "$(ls -A "$REPO")" "$before"
}

@test "prune never removes the newest verified backup" {
	at 2026-01-01T00:00:00Z 2026-01-02T00:00:00Z
	corrupt "$REPO/20260102T000000Z.tar.zst" 300
	dsim-backup verify --repo "$REPO" --all >/dev/null || true
	run dsim-backup prune --repo "$REPO" --keep-last 1
	assert_success
	assert_equal "$(records backup.prune | jq -r \
	    '"\(.id) \(.action) \(.reasons | join(","))"')" \
"20260101T000000Z keep newest verified
20260102T000000Z keep last"
}

@test "a pinned backup survives prune, and unpin lets it go" {
	at 2026-01-01T00:00:00Z 2026-01-02T00:00:00Z 2026-01-03T00:00:00Z
	run dsim-backup pin --repo "$REPO" 20260101T000000Z
	assert_success
	assert_equal "$(field backup '[.id, .pinned] | join(" ")')" \
	    "20260101T000000Z true"
	run dsim-backup prune --repo "$REPO" --keep-last 1
	assert_equal "$(records backup.prune | jq -r .action | paste -sd' ')" \
	    "keep remove keep"
	dsim-backup unpin --repo "$REPO" 20260101T000000Z >/dev/null
	run dsim-backup prune --repo "$REPO" --keep-last 1
	assert_equal "$(records backup.prune | jq -r .action | paste -sd' ')" \
	    "remove keep"
}

@test "pin of an unknown backup exits 66" {
	world
	dsim-backup create --repo "$REPO" -q
	run --separate-stderr dsim-backup pin --repo "$REPO" 20990101T000000Z
	assert_failure 66
	assert_equal "$stderr" \
	    "dsim-backup: 20990101T000000Z: no such backup in $REPO"
}

# --- the geo-redundant copy ------------------------------------------------

# Turn ENABLE_DISTRIBUTED_DB on in the world's snapshot.
distributed() {
	local f=$DSIM_HOME/production/world.json
	jq -c '.world.flags.ENABLE_DISTRIBUTED_DB = true' "$f" >"$f.new"
	mv "$f.new" "$f"
}

@test "with ENABLE_DISTRIBUTED_DB create copies the backup to --copy-to" {
	world
	distributed
	run dsim-backup create --repo "$REPO" --copy-to "$BATS_TEST_TMPDIR/geo"
	assert_success
	assert_equal "$(field backup .copy)" "$BATS_TEST_TMPDIR/geo"
	cmp "$REPO/20260101T000000Z.tar.zst" \
	    "$BATS_TEST_TMPDIR/geo/20260101T000000Z.tar.zst"
	cmp "$REPO/20260101T000000Z.json" \
	    "$BATS_TEST_TMPDIR/geo/20260101T000000Z.json"
}

@test "with ENABLE_DISTRIBUTED_DB the copy goes beside the repository" {
	world
	distributed
	dsim-backup create -q
	[ -f "$DSIM_HOME/production/backups-copy/20260101T000000Z.json" ]
}

@test "without the flag, create makes no copy" {
	world
	dsim-backup create -q
	[ ! -e "$DSIM_HOME/production/backups-copy" ]
}

@test "verify checks the copy too, and names damage found there" {
	world
	distributed
	dsim-backup create --repo "$REPO" --copy-to "$BATS_TEST_TMPDIR/geo" -q
	corrupt "$BATS_TEST_TMPDIR/geo/20260101T000000Z.tar.zst" 400
	run --separate-stderr dsim-backup verify --repo "$REPO" \
	    --copy-to "$BATS_TEST_TMPDIR/geo" --all
	assert_failure 1
	assert_equal "$(records backup.verify | jq -r '"\(.repo) \(.ok)"')" \
	    "$REPO true
$BATS_TEST_TMPDIR/geo false"
}

@test "a backup missing from the copy fails verify" {
	world
	distributed
	dsim-backup create --repo "$REPO" --copy-to "$BATS_TEST_TMPDIR/geo" -q
	rm "$BATS_TEST_TMPDIR/geo/20260101T000000Z.json"
	run --separate-stderr dsim-backup verify --repo "$REPO" \
	    --copy-to "$BATS_TEST_TMPDIR/geo" 20260101T000000Z
	assert_failure 1
	assert_equal "$stderr" "dsim-backup: 20260101T000000Z: missing from \
the copy in $BATS_TEST_TMPDIR/geo"
}

@test "prune removes a backup from the copy as well" {
	at 2026-01-01T00:00:00Z
	distributed
	dsim-backup create --repo "$REPO" --copy-to "$BATS_TEST_TMPDIR/geo" -q
	dsim-init --seed 7 --start 2026-01-02T00:00:00Z --force >/dev/null
	distributed
	dsim-backup create --repo "$REPO" --copy-to "$BATS_TEST_TMPDIR/geo" -q
	dsim-backup prune --repo "$REPO" --copy-to "$BATS_TEST_TMPDIR/geo" \
	    --keep-last 1 >/dev/null
	assert_equal "$(ls "$BATS_TEST_TMPDIR/geo")" "20260102T000000Z.json
20260102T000000Z.tar.zst"
}
