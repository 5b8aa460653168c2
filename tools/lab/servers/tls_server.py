#!/usr/bin/python3
"""TCP services of the lab's vendor cloud: HTTPS and plain HTTP.

Listens on every (address, port) of `labplan.tcp_listeners()`. TLS listeners
present the certificate of the name the client asked for (SNI), from
CERTDIR/<name>.crt with the shared key CERTDIR/rsa.key; a client that sends
no SNI, or an unknown one, gets the listener's own name. Every connection gets
a small HTTP/1.1 response naming the service, then the server closes.

Usage: tls_server.py CERTDIR   (runs until SIGTERM)
"""
import asyncio
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


async def serve(reader, writer, label):
    try:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            pass
        body = ("callwall lab: %s\n" % label).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await asyncio.wait_for(writer.drain(), timeout=5)
    except (ConnectionError, ssl.SSLError, asyncio.TimeoutError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main(certdir):
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
