# Real monitoring servers for the tests, on free loopback ports: the
# Pushgateway, Alertmanager, Prometheus, an SMTP sink and an HTTP
# receiver.  Each is started in setup_file and stopped in teardown_file;
# a program that is missing is a failure, never a skip.
#
#   servers_start NAME...   start pushgateway alertmanager prometheus
#                           smtp http (sets PUSHGATEWAY_URL, AM_URL,
#                           PROMETHEUS_URL, SMTP_URL, SMTP_DIR, HTTP_URL,
#                           HTTP_DIR)
#   servers_stop            stop every server started

SERVERS_DIR=${SERVERS_DIR:-}

# A port nothing listens on, from a random start.
servers_port() {
	local p=$((20000 + RANDOM % 20000))

	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}

# Whether a server is up: a URL that answers, or a file that exists.
servers_up() {
	case $1 in
	http://*) curl -fs -o /dev/null --noproxy '*' "$1" ;;
	*) [ -e "$1" ] ;;
	esac
}

# Wait until a file exists: servers_wait_file PATH
servers_wait_file() {
	local i

	for i in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "servers.bash: $1 did not appear" >&2
	return 1
}

# Start a server on a free port and wait until it is up, trying another
# port if it dies (another process may take a port between the check and
# the bind): servers_run NAME READY CMD...  PORT in READY and CMD is the
# port chosen; sets SERVERS_PORT.
servers_run() {
	local name=$1 ready=$2 attempt i pid

	shift 2
	command -v "$1" >/dev/null || {
		echo "servers.bash: $1 is not installed" >&2
		return 1
	}
	for attempt in 1 2 3; do
		SERVERS_PORT=$(servers_port)
		"${@//PORT/$SERVERS_PORT}" >"$SERVERS_DIR/$name.log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >>"$SERVERS_DIR/pids"
		for i in $(seq 150); do
			servers_up "${ready//PORT/$SERVERS_PORT}" && return 0
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
	done
	echo "servers.bash: $name did not start; its log:" >&2
	cat "$SERVERS_DIR/$name.log" >&2
	return 1
}

servers_pushgateway() {
	servers_run pushgateway "http://127.0.0.1:PORT/-/ready" \
	    /usr/bin/prometheus-pushgateway \
	    --web.listen-address=127.0.0.1:PORT \
	    --persistence.file="$SERVERS_DIR/pushgateway.data" || return 1
	PUSHGATEWAY_URL="http://127.0.0.1:$SERVERS_PORT"
}

servers_alertmanager() {
	mkdir -p "$SERVERS_DIR/am"
	cat >"$SERVERS_DIR/am/am.yml" <<YML
route:
  receiver: blackhole
  group_wait: 1s
receivers:
  - name: blackhole
YML
	servers_run alertmanager "http://127.0.0.1:PORT/-/ready" \
	    /usr/bin/prometheus-alertmanager \
	    --config.file="$SERVERS_DIR/am/am.yml" \
	    --storage.path="$SERVERS_DIR/am" \
	    --web.listen-address=127.0.0.1:PORT \
	    --cluster.listen-address= || return 1
	AM_URL="http://127.0.0.1:$SERVERS_PORT"
}

servers_prometheus() {
	mkdir -p "$SERVERS_DIR/prom"
	cat >"$SERVERS_DIR/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ['${PUSHGATEWAY_URL#http://}']
YML
	servers_run prometheus "http://127.0.0.1:PORT/-/ready" \
	    /usr/bin/prometheus \
	    --config.file="$SERVERS_DIR/prom/prometheus.yml" \
	    --storage.tsdb.path="$SERVERS_DIR/prom/data" \
	    --web.listen-address=127.0.0.1:PORT || return 1
	PROMETHEUS_URL="http://127.0.0.1:$SERVERS_PORT"
}

servers_smtp() {
	SMTP_DIR=$SERVERS_DIR/mail
	mkdir -p "$SMTP_DIR"
	servers_run smtp "$SMTP_DIR/ready.PORT" /usr/bin/python3 \
	    "$BATS_TEST_DIRNAME/smtp-sink.py" PORT "$SMTP_DIR" || return 1
	SMTP_URL="smtp://127.0.0.1:$SERVERS_PORT"
}

servers_http() {
	HTTP_DIR=$SERVERS_DIR/http
	mkdir -p "$HTTP_DIR"
	servers_run http "$HTTP_DIR/ready.PORT" /usr/bin/python3 \
	    "$BATS_TEST_DIRNAME/http-sink.py" PORT "$HTTP_DIR" || return 1
	HTTP_URL="http://127.0.0.1:$SERVERS_PORT/hook"
}

# Wait, up to thirty seconds, until a PromQL query's answer mentions a
# word: servers_eventually_query QUERY WORD
servers_eventually_query() {
	local i

	for i in $(seq 60); do
		curl -fs --noproxy '*' -G "$PROMETHEUS_URL/api/v1/query" \
		    --data-urlencode "query=$1" | grep -q "$2" && return 0
		sleep 0.5
	done
	echo "servers.bash: Prometheus never answered $1 with $2" >&2
	return 1
}

servers_start() {
	local s

	SERVERS_DIR=$(mktemp -d /tmp/dsim-servers.XXXXXX)
	export SERVERS_DIR
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
	for s in "$@"; do
		"servers_$s" || { servers_stop; return 1; }
	done
	export PUSHGATEWAY_URL AM_URL PROMETHEUS_URL SMTP_URL SMTP_DIR \
	    HTTP_URL HTTP_DIR
}

servers_stop() {
	local pid

	[ -n "${SERVERS_DIR:-}" ] && [ -d "$SERVERS_DIR" ] || return 0
	if [ -f "$SERVERS_DIR/pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		done <"$SERVERS_DIR/pids"
	fi
	rm -rf "$SERVERS_DIR"
}
