#!/usr/bin/env python3
"""A TCP proxy that holds every chunk of data DELAY_MS before passing it on, in each
direction: a slower network between a client and a local PostgreSQL, where the kernel's
netem is not available.

    bench/delayproxy.py LISTEN_PORT TARGET DELAY_MS

TARGET is host:port, or the path of a Unix socket (PostgreSQL's `.s.PGSQL.5432`). Runs
until killed. asyncio's timers make the actual delay coarser than DELAY_MS: measure the
round trip it gives (bench/run.sh times 1,000 `select 1` through it).
"""
import asyncio
import sys
import time


async def pipe(reader, writer, delay):
    """Copies reader to writer, each chunk `delay` seconds after it arrived, in order."""
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                writer.close()
                return
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    while True:
        data = await reader.read(65536)
        if not data:
            await queue.put((0, None))
            break
        await queue.put((time.monotonic() + delay, data))
    await sender


async def main() -> None:
    listen, target, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]) / 1000

    async def handle(client_reader, client_writer):
        if target.startswith("/"):
            server_reader, server_writer = await asyncio.open_unix_connection(target)
        else:
            host, port = target.rsplit(":", 1)
            server_reader, server_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(client_reader, server_writer, delay),
                             pipe(server_reader, client_writer, delay),
                             return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
