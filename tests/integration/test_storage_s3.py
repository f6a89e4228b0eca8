"""pitr's S3 backend against a real S3 server: the storage conformance suite (the same one the
local directory backend passes, tests/unit/storage_conformance_test.cpp) and the operator
mistakes (wrong secret, unknown bucket, unreachable endpoint), run against a private Ceph RADOS
Gateway (scripts/ceph-instance)."""
import os
import re
import subprocess
import unittest

from fault_proxy import FaultProxy
from harness import REPO, ServerTestCase

UNIT_TESTS = os.environ.get("PITR_UNIT_TESTS", os.path.join(REPO, "build", "tests", "unit_tests"))


class S3BackendTest(ServerTestCase):
    def test_conformance_suite_against_the_gateway(self):
        gateway = self.ceph(bucket="pitr-conformance")
        self.run_suite(dict(os.environ, PITR_TEST_S3_BUCKET="pitr-conformance", **gateway.env()))

    def test_conformance_suite_through_injected_faults(self):
        """The same suite with a proxy failing requests: 503 SlowDown, 429, answers lost after
        the gateway acted (writes must be recognised as done, not refused as existing), bodies
        cut mid-transfer (reads must resume where they stopped) and stalled answers (cut after
        the stall timeout, then retried)."""
        gateway = self.ceph(bucket="pitr-faults")
        proxy = FaultProxy(gateway.port)
        self.addCleanup(proxy.stop)
        env = dict(os.environ, PITR_TEST_S3_BUCKET="pitr-faults", **gateway.env())
        env["AWS_ENDPOINT_URL"] = proxy.endpoint
        env["PITR_TEST_S3_STALL_SECONDS"] = "2"  # the proxy holds stalled answers for 4 s
        self.run_suite(env, "*StorageConformance*/S3")
        for kind, count in proxy.plan.injected.items():
            self.assertGreater(count, 3 if kind == "stall" else 5,
                               f"{kind} injected only {count} times: {proxy.plan.injected}")

    def run_suite(self, env, which="*/S3"):
        out = subprocess.run([UNIT_TESTS, f"--gtest_filter={which}"], env=env,
                             capture_output=True, text=True, timeout=600)
        self.assertEqual(out.returncode, 0, out.stdout[-5000:] + out.stderr[-2000:])
        passed = re.search(r"\[  PASSED  \] (\d+) tests?", out.stdout)
        self.assertIsNotNone(passed, out.stdout[-2000:])
        # Every conformance case and every mistake ran against S3; none was skipped.
        listed = subprocess.run([UNIT_TESTS, "--gtest_list_tests", f"--gtest_filter={which}"],
                                env=env, capture_output=True, text=True, check=True).stdout
        cases = len(re.findall(r"^  \S+/S3", listed, re.M))
        self.assertGreaterEqual(cases, 12, listed)
        self.assertEqual(int(passed.group(1)), cases, out.stdout[-3000:])
        self.assertNotIn("SKIPPED", out.stdout)


if __name__ == "__main__":
    unittest.main()
