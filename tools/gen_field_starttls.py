#!/usr/bin/python3
"""Generates the regression capture of TLS after a cleartext start into
captures/field/tls_starttls.pcap: one TCP connection per protocol that
upgrades in place, each with its cleartext opening, the client's upgrade
request, the server's go-ahead, then a TLS 1.3 ClientHello (its own SNI) and
the server's ServerHello flight.

  smtp     25   220 banner, EHLO, 250 lines, STARTTLS, 220 go ahead (RFC 3207)
  submit   587  the same on the submission port
  imap     143  * OK greeting, a1 CAPABILITY, a2 STARTTLS, a2 OK (RFC 9051)
  pop3     110  +OK greeting, CAPA, STLS, +OK (RFC 2595)
  ftp      21   220 multi-line banner, AUTH TLS, 234 (RFC 4217)
  xmpp     5222 stream open both ways, features, <starttls/>, <proceed/> (RFC 6120)
  ldap     389  ExtendedRequest 1.3.6.1.4.1.1466.20037, ExtendedResponse success (RFC 4511)
  postgres 5432 SSLRequest (80877103), 'S'
  mysql    3306 greeting (protocol 10), SSLRequest (CLIENT_SSL), ClientHello
  mysql1   3306 the same with the SSLRequest and the ClientHello in one
                segment (tshark 4.0 does not read this hello: its MySQL
                dissector hands over to TLS only at a segment's start)
  refused  25   STARTTLS answered 454, the session goes on in clear: no hello
  direct   143  a ClientHello with no request before it (a client speaking
                TLS on the cleartext port): read, as tshark reads it

Deterministic (fixed timestamps from 2026-01-01T00:00:00Z,
random.Random(crc32(name))); documentation/private addresses only. Built on
the packet library of tools/gen_captures.py. tshark 4.0 reads the same SNIs
(its STARTTLS dissectors are on by default for these ports).

    tools/gen_field_starttls.py
    cd captures/field && sha256sum -c SHA256SUMS
"""
import argparse
import os
import random
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402

ms = g.ms
SERVER = '198.51.100.25'
NAME = 'tls_starttls.pcap'


def hello_flight(c, rng, t, sni, *, client_prefix=b''):
    """ClientHello (optionally behind bytes in the same segment), then the
    server's ServerHello, ChangeCipherSpec and encrypted records."""
    ch = g.tls_client_hello(rng, sni, pq=False, pad_to=512)
    t = c.send('c', t, client_prefix + g.tls_record(22, ch, 0x0301))
    sh = g.tls_server_hello(rng, g.client_hello_session_id(ch))
    t = c.send('s', t + ms(3), g.tls_record(22, sh) + g.tls_record(20, b'\x01') +
               g.tls_record(23, rng.randbytes(600)))
    t = c.send('c', t + ms(2), g.tls_record(20, b'\x01') + g.tls_record(23, rng.randbytes(64)))
    return t


def talk(c, t, lines):
    """Cleartext exchange: (side, bytes) in order."""
    for side, data in lines:
        t = c.send(side, t + ms(2), data)
    return t


def ldap_start_tls_request(msgid):
    oid = b'1.3.6.1.4.1.1466.20037'
    ext = b'\x77' + bytes([2 + len(oid)]) + b'\x80' + bytes([len(oid)]) + oid
    body = b'\x02\x01' + bytes([msgid]) + ext
    return b'\x30' + bytes([len(body)]) + body


def ldap_start_tls_response(msgid):
    res = b'\x0a\x01\x00' + b'\x04\x00' + b'\x04\x00'    # success, matchedDN "", diagnostic ""
    ext = b'\x78' + bytes([len(res)]) + res
    body = b'\x02\x01' + bytes([msgid]) + ext
    return b'\x30' + bytes([len(body)]) + body


def mysql_packet(seq, payload):
    return struct.pack('<I', len(payload))[:3] + bytes([seq]) + payload


def mysql_greeting(rng):
    return mysql_packet(0, b'\x0a' + b'8.0.36\x00' + struct.pack('<I', 8) + rng.randbytes(8) + b'\x00' +
                        struct.pack('<H', 0xffff) + b'\xff' + struct.pack('<H', 2) + struct.pack('<H', 0xdfff) +
                        b'\x15' + b'\x00' * 10 + rng.randbytes(12) + b'\x00' + b'caching_sha2_password\x00')


def mysql_ssl_request():
    caps = 0x0800 | 0x0200 | 0x8000 | 0x00080000      # SSL, PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH
    return mysql_packet(1, struct.pack('<IIB', caps, 16777216, 0xff) + b'\x00' * 23)


def conn(cap, rng, cport, sport, t):
    c = g.TcpConn(cap, g.CLIENT, SERVER, cport, sport, rng=rng)
    return c, c.handshake(t)


def build(rng):
    cap = g.Cap()
    t0 = 0
    # SMTP on 25 and on 587
    for cport, sport, sni in ((46001, 25, 'mx1.mail.example.net'), (46002, 587, 'submit.mail.example.net')):
        c, t = conn(cap, rng, cport, sport, t0)
        t = talk(c, t, [('s', b'220 mx1.example.net ESMTP ready\r\n'), ('c', b'EHLO client.example.org\r\n'),
                        ('s', b'250-mx1.example.net\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-STARTTLS\r\n'
                              b'250 8BITMIME\r\n'),
                        ('c', b'STARTTLS\r\n'), ('s', b'220 2.0.0 Ready to start TLS\r\n')])
        c.close(hello_flight(c, rng, t + ms(1), sni) + ms(20))
        t0 += ms(100)
    # IMAP
    c, t = conn(cap, rng, 46003, 143, t0)
    t = talk(c, t, [('s', b'* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n'),
                    ('c', b'a1 CAPABILITY\r\n'),
                    ('s', b'* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK done\r\n'),
                    ('c', b'a2 STARTTLS\r\n'), ('s', b'a2 OK Begin TLS negotiation now\r\n')])
    c.close(hello_flight(c, rng, t + ms(1), 'imap.mail.example.net') + ms(20))
    t0 += ms(100)
    # POP3
    c, t = conn(cap, rng, 46004, 110, t0)
    t = talk(c, t, [('s', b'+OK POP3 ready\r\n'), ('c', b'CAPA\r\n'), ('s', b'+OK\r\nSTLS\r\nUSER\r\n.\r\n'),
                    ('c', b'STLS\r\n'), ('s', b'+OK Begin TLS\r\n')])
    c.close(hello_flight(c, rng, t + ms(1), 'pop.mail.example.net') + ms(20))
    t0 += ms(100)
    # FTP
    c, t = conn(cap, rng, 46005, 21, t0)
    banner = b''.join(b'220-Welcome line %d of the site banner, please read it all\r\n' % i for i in range(30))
    t = talk(c, t, [('s', banner + b'220 FTP ready\r\n'), ('c', b'AUTH TLS\r\n'),
                    ('s', b'234 AUTH TLS successful\r\n')])
    c.close(hello_flight(c, rng, t + ms(1), 'ftp.files.example.net') + ms(20))
    t0 += ms(100)
    # XMPP
    c, t = conn(cap, rng, 46006, 5222, t0)
    t = talk(c, t, [('c', b"<?xml version='1.0'?><stream:stream to='chat.example.net' version='1.0' "
                          b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"),
                    ('s', b"<?xml version='1.0'?><stream:stream from='chat.example.net' id='s1' version='1.0' "
                          b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
                          b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
                          b"</starttls></stream:features>"),
                    ('c', b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                    ('s', b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")])
    c.close(hello_flight(c, rng, t + ms(1), 'chat.example.net') + ms(20))
    t0 += ms(100)
    # LDAP
    c, t = conn(cap, rng, 46007, 389, t0)
    t = talk(c, t, [('c', ldap_start_tls_request(1)), ('s', ldap_start_tls_response(1))])
    c.close(hello_flight(c, rng, t + ms(1), 'ldap.dir.example.net') + ms(20))
    t0 += ms(100)
    # PostgreSQL
    c, t = conn(cap, rng, 46008, 5432, t0)
    t = talk(c, t, [('c', bytes.fromhex('0000000804d2162f')), ('s', b'S')])
    c.close(hello_flight(c, rng, t + ms(1), 'db.pg.example.net') + ms(20))
    t0 += ms(100)
    # MySQL: the SSL request, then the ClientHello (in its own segment, then in the same one)
    c, t = conn(cap, rng, 46009, 3306, t0)
    t = talk(c, t, [('s', mysql_greeting(rng)), ('c', mysql_ssl_request())])
    c.close(hello_flight(c, rng, t + ms(1), 'db.mysql.example.net') + ms(20))
    t0 += ms(100)
    c, t = conn(cap, rng, 46012, 3306, t0)
    t = talk(c, t, [('s', mysql_greeting(rng))])
    c.close(hello_flight(c, rng, t + ms(1), 'db2.mysql.example.net', client_prefix=mysql_ssl_request()) + ms(20))
    t0 += ms(100)
    # SMTP whose STARTTLS is refused: the session stays in clear, no hello
    c, t = conn(cap, rng, 46010, 25, t0)
    t = talk(c, t, [('s', b'220 mx2.example.net ESMTP\r\n'), ('c', b'EHLO client.example.org\r\n'),
                    ('s', b'250 mx2.example.net\r\n'), ('c', b'STARTTLS\r\n'), ('s', b'454 TLS not available\r\n'),
                    ('c', b'MAIL FROM:<a@example.org>\r\n'), ('s', b'250 OK\r\n'), ('c', b'QUIT\r\n'),
                    ('s', b'221 Bye\r\n')])
    c.close(t + ms(20))
    t0 += ms(100)
    # IMAP with no request: the client speaks TLS on the cleartext port, the server answers in clear
    c, t = conn(cap, rng, 46011, 143, t0)
    ch = g.tls_client_hello(rng, 'direct.mail.example.net', pq=False, pad_to=512)
    t = talk(c, t, [('s', b'* OK ready\r\n'), ('c', g.tls_record(22, ch, 0x0301)), ('s', b'* BAD\r\n')])
    c.close(t + ms(20))
    return cap


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'captures',
                                                  'field'))
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    cap = build(random.Random(zlib.crc32(NAME.encode())))
    g.write_pcap(os.path.join(a.out, NAME), g.DLT_EN10MB, cap.frames())
    print(f'{NAME:28s} {os.path.getsize(os.path.join(a.out, NAME)):8d} bytes')
    return 0


if __name__ == '__main__':
    sys.exit(main())
