#!/usr/bin/python3
"""TCP services of the lab's vendor cloud: HTTPS and plain HTTP.

Listens on every (address, port) of `labplan.tcp_listeners()`. TLS listeners
present the certificate of the name the client asked for (SNI), from
CERTDIR/<name>.crt with the shared key CERTDIR/rsa.key; a client that sends
no SNI, or an unknown one, gets the listener's own name. Every connection gets
a small HTTP/1.1 response naming the service, then the server closes.

Paths under /p2p/ are the signaling of the lab's peer-to-peer call
(tools/lab/webrtc/p2p.html): two mailboxes, "remote" and "local", each a list
of JSON messages. POST /p2p/BOX appends the body; GET /p2p/BOX?since=N
answers with the messages from index N on as a JSON list, waiting up to 8 s
for one (long polling). These connections stay open (keep-alive) and answer
with CORS headers: the page is a file:// page.

Usage: tls_server.py CERTDIR   (runs until SIGTERM)
"""
import asyncio
import json
import os
import signal
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import labplan  # noqa: E402


def make_contexts(certdir, names):
    ctxs = {}
    for n in names:
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(os.path.join(certdir, n + ".crt"), os.path.join(certdir, "rsa.key"))
        c.set_alpn_protocols(["http/1.1"])
        ctxs[n] = c

    def pick(sslobj, server_name, _ctx):
        if server_name and server_name.lower() in ctxs:
            sslobj.context = ctxs[server_name.lower()]
        return None

    for c in ctxs.values():
        c.sni_callback = pick
    return ctxs


BOXES = {"remote": [], "local": []}
BOX_CHANGED = None  # asyncio.Condition, made in main()
SIGNAL_WAIT_S = 8.0


async def signaling(reader, writer, head):
    """Serves /p2p/ requests on one keep-alive connection, head first."""
    while head:
        lines = head.decode("latin-1").split("\r\n")
        method, target = (lines[0].split(" ") + ["", ""])[:2]
        length = 0
        for l in lines[1:]:
            k, _, v = l.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip() or 0)
        body = await asyncio.wait_for(reader.readexactly(length), timeout=5) if length else b""
        path, _, query = target.partition("?")
        box = BOXES.get(path[len("/p2p/"):])
        status, out = "200 OK", b"[]"
        if box is None:
            status, out = "404 Not Found", b"[]"
        elif method == "POST":
            async with BOX_CHANGED:
                box.append(json.loads(body or b"null"))
                BOX_CHANGED.notify_all()
            out = b"{}"
        elif method == "GET":
            since = int(query.partition("since=")[2].partition("&")[0] or 0)
            async with BOX_CHANGED:
                try:
                    await asyncio.wait_for(BOX_CHANGED.wait_for(lambda: len(box) > since), SIGNAL_WAIT_S)
                except asyncio.TimeoutError:
                    pass
                out = json.dumps(box[since:]).encode()
        elif method != "OPTIONS":
            status = "405 Method Not Allowed"
        writer.write(b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\n"
                     b"Access-Control-Allow-Methods: GET, POST\r\nAccess-Control-Allow-Headers: content-type\r\n"
                     b"Cache-Control: no-store\r\nContent-Length: %d\r\n\r\n%s"
                     % (status.encode(), len(out), out))
        await asyncio.wait_for(writer.drain(), timeout=5)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            head = b""


async def serve(reader, writer, label):
    try:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            if b" /p2p/" in head.split(b"\r\n", 1)[0]:
                await signaling(reader, writer, head)
                return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            pass
        body = ("callwall lab: %s\n" % label).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await asyncio.wait_for(writer.drain(), timeout=5)
    except (ConnectionError, ssl.SSLError, asyncio.TimeoutError, asyncio.IncompleteReadError, OSError, ValueError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main(certdir):
    global BOX_CHANGED
    BOX_CHANGED = asyncio.Condition()
    names = set(labplan.TCP_SERVICES) | set(labplan.CNAMES)
    ctxs = make_contexts(certdir, names)
    servers = []
    for addr, port, kind, name in labplan.tcp_listeners():
        label = "%s %s:%d (%s)" % (name, addr, port, kind)
        ctx = ctxs[name] if kind == "tls" else None
        srv = await asyncio.start_server(lambda r, w, label=label: serve(r, w, label), host=addr, port=port,
                                         ssl=ctx, reuse_address=True, ssl_handshake_timeout=10 if ctx else None)
        servers.append(srv)
    print("tls_server: %d listeners" % len(servers), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    for srv in servers:
        srv.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
