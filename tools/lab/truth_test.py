#!/usr/bin/python3
"""Checks of the lab's ground truth (truth.py) on captures written here.

The self-check must tell a firewall's refusal from a server that closed
its port after it had answered: an ICMP port-unreachable quoting an
accepted, answered flow and sent by that flow's own server is the server's
side ending (a relay whose allocation ended with the call), not the
firewall. One from anyone else, or before any answer, still counts.

Usage: truth_test.py   (exit 0 when every case passes)
"""
import os
import struct
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import truth  # noqa: E402

CLIENT = "10.77.1.10"
SERVER = "10.77.100.112"
FIREWALL = "10.77.1.1"


def ipv4(src, dst, proto, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                         bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return header + payload


def udp(src, sport, dst, dport, data=b"x"):
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data)


def icmp_unreachable(src, quoted_packet, code=3):
    return ipv4(src, CLIENT, 1, struct.pack("!BBHI", 3, code, 0, 0) + quoted_packet[:28])


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, ip in enumerate(packets):
            frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip
            f.write(struct.pack("<IIII", 1000 + i, 0, len(frame), len(frame)))
            f.write(frame)


class SelfCheck(unittest.TestCase):
    def errors(self, packets, action="accept"):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "client.pcap")
            write_pcap(path, packets)
            flows, _dns, _end = truth.collect(path)
        (flow,) = flows.values()
        return truth.self_check(flow, action, "observed", {flow.key(): True}, False)

    def test_answered_flow_whose_server_closed_its_port_passes(self):
        first = udp(CLIENT, 50741, SERVER, 63726)
        errs = self.errors([first, udp(SERVER, 63726, CLIENT, 50741), udp(CLIENT, 50741, SERVER, 63726),
                            icmp_unreachable(SERVER, first)])
        self.assertEqual(errs, [])

    def test_port_unreachable_before_any_answer_is_an_error(self):
        first = udp(CLIENT, 50741, SERVER, 63726)
        errs = self.errors([first, icmp_unreachable(SERVER, first)])
        self.assertIn("accepted but never answered", errs)
        self.assertTrue(any("ICMP type 3 code 3" in e for e in errs), errs)

    def test_port_unreachable_from_another_host_is_an_error(self):
        first = udp(CLIENT, 50741, SERVER, 63726)
        errs = self.errors([first, udp(SERVER, 63726, CLIENT, 50741), icmp_unreachable(FIREWALL, first)])
        self.assertEqual(errs, ["accepted but got ICMP type 3 code 3 from %s" % FIREWALL])

    def test_admin_prohibited_from_the_server_is_an_error(self):
        first = udp(CLIENT, 50741, SERVER, 63726)
        errs = self.errors([first, udp(SERVER, 63726, CLIENT, 50741), icmp_unreachable(SERVER, first, code=13)])
        self.assertEqual(errs, ["accepted but got ICMP type 3 code 13 from %s" % SERVER])


if __name__ == "__main__":
    unittest.main()
