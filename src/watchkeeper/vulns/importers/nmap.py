"""nmap's XML output (``nmap -oX``): each open port is an ``exposure`` finding of
severity info on ``host:port/protocol``, and each host an :class:`Asset`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from xml.etree.ElementTree import Element

from watchkeeper.vulns.importers.base import Importer, ImportResult
from watchkeeper.vulns.importers.normalize import network_location
from watchkeeper.vulns.importers.records import RecordError, load_xml
from watchkeeper.vulns.model import Finding, Severity

ADDRESS_TYPES = ("ipv4", "ipv6")


@dataclass(frozen=True)
class Service:
    """One port of a host, as nmap saw it."""

    port: int
    protocol: str
    state: str
    name: str = ""
    product: str = ""
    version: str = ""
    cpes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Asset:
    """A host nmap found up: its address, names, likeliest OS and open ports."""

    address: str
    hostnames: tuple[str, ...] = ()
    mac: str = ""
    os: str = ""
    """nmap's most accurate ``osmatch``, when it ran OS detection."""
    services: tuple[Service, ...] = ()


class NmapImporter(Importer):
    name: ClassVar[str] = "nmap"
    description: ClassVar[str] = "nmap XML: open ports as exposures, hosts as assets"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        return 100 if b"<nmaprun" in head else 0

    def load(self, data: bytes, source: str) -> ImportResult:
        result = ImportResult()
        root = load_xml(data, source, result)
        if root is None:
            return result
        if root.tag != "nmaprun":
            result.skip(source, f"not an nmap report: the root is <{root.tag}>")
            return result
        for index, host in enumerate(root.iter("host")):
            status = host.find("status")
            if status is not None and status.get("state") != "up":
                continue
            try:
                asset = _asset(host)
            except RecordError as exc:
                result.skip(f"{source}: host[{index}]", exc.message)
                continue
            result.assets.append(asset)
            result.findings.extend(self._exposure(asset, service) for service in asset.services
                                   if service.state == "open")
        return result

    def _exposure(self, asset: Asset, service: Service) -> Finding:
        port = f"{service.port}/{service.protocol}"
        running = " ".join(part for part in (service.product, service.version) if part)
        title = f"Open port {port}"
        if service.name:
            title += f": {service.name}" + (f" ({running})" if running else "")
        extra: dict[str, Any] = {
            "service": service.name, "product": service.product, "version": service.version,
            "cpe": list(service.cpes), "hostnames": list(asset.hostnames),
        }
        return Finding(
            kind="exposure", rule="open-port", title=title, severity=Severity.INFO,
            location=network_location(asset.address, str(service.port), service.protocol),
            tool=self.name, extra={key: value for key, value in extra.items() if value},
        )


def _asset(host: Element) -> Asset:
    addresses = {item.get("addrtype", ""): item for item in host.findall("address")}
    ip = next((addresses[kind] for kind in ADDRESS_TYPES if kind in addresses), None)
    if ip is None or not ip.get("addr"):
        raise RecordError("a host without an IPv4 or IPv6 address")
    mac = addresses.get("mac")
    names = tuple(dict.fromkeys(name.get("name", "") for name in
                                host.findall("hostnames/hostname") if name.get("name")))
    matches = host.findall("os/osmatch")
    best = max(matches, key=lambda match: int(match.get("accuracy") or 0), default=None)
    services = []
    for port in host.findall("ports/port"):
        number = port.get("portid", "")
        if not number.isdigit():
            raise RecordError(f"a port without a number: {number!r}")
        state = port.find("state")
        service = port.find("service")
        info = service.attrib if service is not None else {}
        cpes = tuple(cpe.text.strip() for cpe in port.findall("service/cpe") if cpe.text)
        services.append(Service(
            port=int(number), protocol=port.get("protocol", "tcp"),
            state=state.get("state", "") if state is not None else "",
            name=info.get("name", ""), product=info.get("product", ""),
            version=info.get("version", ""), cpes=cpes,
        ))
    return Asset(
        address=ip.get("addr", ""), hostnames=names,
        mac=mac.get("addr", "") if mac is not None else "",
        os=best.get("name", "") if best is not None else "", services=tuple(services),
    )
