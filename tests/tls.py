"""A throwaway certificate authority for tests of outgoing HTTPS, made with the openssl
command line: a CA, and server certificates it signs for the names asked for.

Clients are told to trust the CA the way OpenSSL lets any program be told: the
``SSL_CERT_FILE`` environment variable, read when a default context loads its
certificates. Nothing in the code under test changes."""

import ssl
import subprocess
from pathlib import Path

EXTENSIONS = """\
subjectAltName={san}
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
"""


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class TestAuthority:
    __test__ = False  # not a test class, whatever its name

    def __init__(self, folder: Path):
        self.folder = folder
        self.ca = folder / "ca.pem"
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=mapsite test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            cwd=folder,
        )

    def server_context(self, name):
        """An SSLContext serving a certificate for DNS name ``name``, signed by the CA."""
        stem = name.replace(".", "_")
        (self.folder / f"{stem}.cnf").write_text(EXTENSIONS.format(san=f"DNS:{name}"))
        _openssl(
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            f"{stem}.key",
            "-out",
            f"{stem}.csr",
            "-subj",
            f"/CN={name}",
            cwd=self.folder,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{stem}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{stem}.pem",
            "-days",
            "2",
            "-extfile",
            f"{stem}.cnf",
            cwd=self.folder,
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.folder / f"{stem}.pem", self.folder / f"{stem}.key")
        return context
