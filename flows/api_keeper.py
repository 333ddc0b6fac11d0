"""The local Prefect API of `magnet run`, kept up between runs and gone after `--idle` seconds unused.

Started by `flows/local_api.py` as its own process (run as a script: it imports nothing of the project),
it serves Prefect's API app exactly as Prefect's temporary server does (same app factory, UI off, same
ephemeral settings from the environment), and exits once the lease file has not been touched for
`--idle` seconds: every `magnet run` touches it when it starts and when it ends.

    python flows/api_keeper.py --port 8123 --lease ~/.prefect/magnet-local-api.lease --idle 900
"""

from __future__ import annotations

import argparse
import os
import threading
import time


def _watch(server, lease: str, idle_s: float, every_s: float) -> None:
    while not server.should_exit:
        try:
            unused = time.time() - os.stat(lease).st_mtime
        except FileNotFoundError:
            unused = idle_s + 1  # lease removed: nobody wants this server any more
        if unused > idle_s:
            server.should_exit = True
            return
        time.sleep(every_s)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lease", required=True)
    parser.add_argument("--idle", type=float, default=900.0)
    args = parser.parse_args()
    import uvicorn

    config = uvicorn.Config("prefect.server.api.server:create_app", factory=True, host="127.0.0.1", port=args.port,
                            log_level="error", lifespan="on")
    server = uvicorn.Server(config)
    threading.Thread(target=_watch, args=(server, args.lease, args.idle, min(5.0, args.idle / 4)), daemon=True).start()
    server.run()


if __name__ == "__main__":
    main()
