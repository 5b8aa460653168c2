#!/usr/bin/python3
"""Writes docs/link-types.md: every pcap link type (LINKTYPE_* 0-299) that
tshark reads, by asking this machine's wiretap (capinfos on a one-record
pcap of that link type) and naming it with libpcap's DLT table, and which
of them callwall reads (the link types decode::link_type_supported accepts,
listed in CALLWALL below: keep the two in step).

    tools/list_link_types.py > docs/link-types.md
"""
import ctypes
import ctypes.util
import os
import struct
import subprocess
import tempfile

# decode::LinkType values callwall reads, with what it reads of them.
CALLWALL = {
    0: "BSD loopback: the address family, then IPv4/IPv6",
    1: "Ethernet II, 802.1Q/802.1ad tags, Cisco MetaData, PPPoE sessions, MPLS, the tunnels inside",
    9: "PPP (address/control optional, protocol field compression), IPv4/IPv6",
    12: "raw IP (DLT_RAW as Linux reports it)",
    14: "raw IP (DLT_RAW on some BSDs)",
    50: "PPP in HDLC-like framing, or Cisco HDLC",
    51: "PPPoE session header, PPP",
    101: "raw IPv4 or IPv6 by the version nibble",
    104: "Cisco HDLC: address, control, ethertype",
    105: "802.11 data frames with LLC/SNAP (QoS, 4-address); management/control skipped, protected not decoded",
    108: "OpenBSD loopback: network-order address family",
    113: "Linux cooked capture v1 (`-i any`)",
    127: "radiotap header (Flags: FCS, data padding, bad FCS), then 802.11 as for 105",
    192: "PPI header, then the frame of the link type it names (802.11 in practice)",
    228: "raw IPv4",
    229: "raw IPv6",
    239: "Linux NFLOG: the netlink attributes walked to the packet",
    276: "Linux cooked capture v2",
}


def main():
    lib = ctypes.CDLL(ctypes.util.find_library("pcap") or "libpcap.so.0.8")
    lib.pcap_datalink_val_to_name.restype = ctypes.c_char_p
    lib.pcap_datalink_val_to_description.restype = ctypes.c_char_p
    version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    rows = []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "one.pcap")
        for lt in range(300):
            with open(path, "wb") as f:
                f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, lt))
                f.write(struct.pack("<IIII", 1, 0, 4, 4) + b"\0\0\0\0")
            r = subprocess.run(["capinfos", "-E", "-T", "-r", path], capture_output=True, text=True)
            enc = r.stdout.strip().split("\t")[-1] if r.returncode == 0 and r.stdout.strip() else ""
            if not enc and lt not in CALLWALL:
                continue
            name = (lib.pcap_datalink_val_to_name(lt) or b"").decode()
            desc = (lib.pcap_datalink_val_to_description(lt) or b"").decode()
            rows.append((lt, name, desc, enc))
    print("# Link types: what tshark reads, what callwall reads\n")
    print("A capture file names one link type per file (pcap) or per interface (pcapng): the")
    print("header every frame starts with. callwall reads the link types below marked **yes**. A file")
    print("of another link type stops `analyze` with exit 3 (`link type N is not supported`); among")
    print("several files it is skipped with a warning and a run note. A pcapng file is read when one")
    print("of its interfaces has a link type callwall reads; the packets of the others count as")
    print("undecoded. The list of what tshark reads is")
    print(f"this machine's wiretap ({version}): every LINKTYPE value 0-299 for which `capinfos`")
    print("names an encapsulation, named by libpcap's DLT table (blank where libpcap has no")
    print("name for the value). Regenerate with `tools/list_link_types.py > docs/link-types.md`.\n")
    print("| LINKTYPE | libpcap name | description | tshark (wiretap encapsulation) | callwall |")
    print("| ---: | --- | --- | --- | --- |")
    for lt, name, desc, enc in rows:
        cw = f"**yes**: {CALLWALL[lt]}" if lt in CALLWALL else "no"
        print(f"| {lt} | {name} | {desc} | {enc or '(not read)'} | {cw} |")
    n_t = sum(1 for r in rows if r[3])
    n_c = sum(1 for r in rows if r[0] in CALLWALL)
    print(f"\n{n_t} link types read by tshark, {n_c} by callwall.")
    print("\nNot read yet, and found in captures users bring: 802.11 behind a Prism (119) or AVS (163)")
    print("header (older monitor-mode drivers), OpenBSD pflog (117: a firewall's own log of the")
    print("packets it passed or blocked), Apple PKTAP (258: macOS `tcpdump -k`), Solaris ipnet")
    print("(226), IP over InfiniBand (242), Frame Relay (107), Endace ERF (197), Juniper's")
    print("link types (130-238).")


if __name__ == "__main__":
    main()
