"""Credentials and TLS against a real MariaDB configured with a certificate."""
import os
import subprocess
import unittest

from harness import ServerTestCase, pitr


def make_certificates(directory):
    """A CA, a server certificate for IP 127.0.0.1 signed by it, and an unrelated CA."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                f"/CN=pitr test {ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.pem")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
            "server.key", "-out", "server.csr")
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
    return {name: os.path.join(directory, name) for name in
            ("ca.pem", "other-ca.pem", "server.pem", "server.key")}


class AuthTest(ServerTestCase):
    def capture_once(self, server, *extra, password=None, host=None):
        archive = os.path.join(self.tmp, f"archive-{len(os.listdir(self.tmp))}")
        uri = server.uri if host is None else f"mysql://pitr@{host}:{server.port}"
        return pitr("capture", "--archive", archive, "--source", uri, "--stop-at-end", *extra,
                    password=server.password if password is None else password, check=False)

    def test_wrong_password_is_a_clear_error(self):
        server = self.mariadb()
        out = self.capture_once(server, password="not-the-password")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"Access denied for user 'pitr'", out.stderr)
        self.assertIn(b"PITR_PASSWORD", out.stderr)
        self.assertNotIn(b"not-the-password", out.stderr)

    def test_password_file(self):
        server = self.mariadb()
        path = os.path.join(self.tmp, "pw")
        with open(path, "w") as f:
            f.write(server.password + "\n")
        out = self.capture_once(server, "--password-file", path, password="wrong-in-env")
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_tls_modes(self):
        certs_dir = os.path.join(self.tmp, "certs")
        os.makedirs(certs_dir)
        certs = make_certificates(certs_dir)
        server = self.mariadb(extra_args=[f"--ssl-ca={certs['ca.pem']}",
                                          f"--ssl-cert={certs['server.pem']}",
                                          f"--ssl-key={certs['server.key']}"])
        ok_cases = [
            ("required",),
            ("preferred",),
            ("verify-ca", "--ssl-ca", certs["ca.pem"]),
            ("verify-identity", "--ssl-ca", certs["ca.pem"]),
        ]
        for mode, *rest in ok_cases:
            out = self.capture_once(server, "--ssl-mode", mode, *rest)
            self.assertEqual(out.returncode, 0, (mode, out.stderr))
            self.assertIn(b" over TLS", out.stderr, mode)

        out = self.capture_once(server, "--ssl-mode", "disabled")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn(b" over TLS", out.stderr)

        out = self.capture_once(server, "--ssl-mode", "verify-ca", "--ssl-ca", certs["other-ca.pem"])
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"certificate verify failed", out.stderr)

        # The certificate names 127.0.0.1, not localhost.
        out = self.capture_once(server, "--ssl-mode", "verify-identity", "--ssl-ca",
                                certs["ca.pem"], host="localhost")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"certificate verify failed", out.stderr)
        out = self.capture_once(server, "--ssl-mode", "verify-ca", "--ssl-ca", certs["ca.pem"],
                                host="localhost")
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_tls_required_but_not_offered(self):
        server = self.mariadb()
        out = self.capture_once(server, "--ssl-mode", "required")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"does not offer TLS", out.stderr)


if __name__ == "__main__":
    unittest.main()
