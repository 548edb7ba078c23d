#!/usr/bin/env bash
# resourcemanager.sh (start|start-foreground|stop|stop-all) [-D key=value...]
exec "$(dirname "${BASH_SOURCE[0]}")/sluice-daemon.sh" "${1:-}" resourcemanager "${@:2}"
