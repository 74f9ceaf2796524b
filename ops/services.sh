#!/usr/bin/env bash
# Make sure the servers boxoffice talks to are up on this machine (PostgreSQL, Redis, RabbitMQ),
# starting any that is down with the machine's own start command. Used by .ci/run and by the
# disruptive tests to restore what they stopped.
#   ops/services.sh            # all three
#   ops/services.sh redis      # just one
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- 3<&-; }

wait_port() {
  local name=$1 port=$2 tries=${3:-60}
  for _ in $(seq "$tries"); do port_open "$port" && return 0; sleep 1; done
  echo "services: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

ensure_postgres() {
  port_open 5432 && return 0
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  wait_port PostgreSQL 5432
}

ensure_redis() {
  port_open 6379 && return 0
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port Redis 6379
}

ensure_rabbitmq() {
  if port_open 5672 && rabbitmq-diagnostics -q check_running >/dev/null 2>&1; then return 0; fi
  if rabbitmqctl -q status >/dev/null 2>&1; then
    echo "services: starting the RabbitMQ app"
    rabbitmqctl -q start_app
  else
    echo "services: starting RabbitMQ"
    rabbitmq-server -detached
  fi
  wait_port RabbitMQ 5672 120 && rabbitmqctl -q await_startup >/dev/null 2>&1 || true
  port_open 5672
}

status=0
for svc in "${@:-postgres redis rabbitmq}"; do
  for s in $svc; do
    case "$s" in
      postgres) ensure_postgres || status=1 ;;
      redis) ensure_redis || status=1 ;;
      rabbitmq) ensure_rabbitmq || status=1 ;;
      *) echo "services: unknown service $s" >&2; status=2 ;;
    esac
  done
done
exit $status
