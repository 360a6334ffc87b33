"""A private CA and a loopback server certificate, so the real SDKs can talk HTTPS to the emulator.

The SDK refuses bearer tokens over plain http, so TLS is not optional. Certificates are reused across
runs when still valid; a file lock keeps parallel test sessions from writing a mismatched pair.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_CA_DAYS = 3650
_LEAF_DAYS = 365
_MIN_LEFT = dt.timedelta(days=2)


@dataclass(frozen=True)
class CertPaths:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def _paths(cert_dir: Path) -> CertPaths:
    return CertPaths(cert_dir / "ca.pem", cert_dir / "ca.key", cert_dir / "server.pem", cert_dir / "server.key")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Write through a temporary file created with its final mode: a private key is 0600 from its first
    byte (O_EXCL after removing any leftover, so an old file's wider mode is never reused)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _valid(p: CertPaths) -> bool:
    """True when the existing pair can be reused: both certs present, unexpired, leaf signed by the CA."""
    if not all(f.exists() for f in (p.ca_cert, p.ca_key, p.server_cert, p.server_key)):
        return False
    try:
        ca = x509.load_pem_x509_certificate(p.ca_cert.read_bytes())
        leaf = x509.load_pem_x509_certificate(p.server_cert.read_bytes())
        serialization.load_pem_private_key(p.server_key.read_bytes(), None)
        leaf.verify_directly_issued_by(ca)
        limit = _now() + _MIN_LEFT
        if ca.not_valid_after_utc < limit or leaf.not_valid_after_utc < limit:
            return False
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    except Exception:  # noqa: BLE001  # any parse/verify problem means "regenerate"
        return False


def _issue(p: CertPaths) -> None:
    now = _now()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localdev ARM emulator CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=_CA_DAYS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=_LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write(p.ca_key, _key_pem(ca_key), private=True)
    _write(p.server_key, _key_pem(leaf_key), private=True)
    _write(p.server_cert, leaf.public_bytes(serialization.Encoding.PEM))
    _write(p.ca_cert, ca.public_bytes(serialization.Encoding.PEM))


def ensure_certs(cert_dir: Path) -> CertPaths:
    """Return usable CA + server cert paths in cert_dir, creating them only when missing or invalid."""
    cert_dir = Path(cert_dir)
    cert_dir.mkdir(parents=True, exist_ok=True)
    p = _paths(cert_dir)
    with open(cert_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _valid(p):
            _issue(p)
    return p
