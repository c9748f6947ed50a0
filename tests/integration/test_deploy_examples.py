"""The deploy examples in docker/ agree with the image they deploy.

No cluster runs here, so the Kubernetes manifests and the compose files are
read as data and checked against docker/Dockerfile: the user, the ports, the
layout at WIF_HOME. A change to one that forgets the others fails here.
scripts/container-test.sh runs the image and the compose demo for real.
"""

import glob
import os
import re
import unittest

import yaml

from harness import SOURCE_ROOT

DOCKER = os.path.join(SOURCE_ROOT, "docker")
KUBERNETES = os.path.join(DOCKER, "kubernetes")
ORIGINAL_LAYOUT = {"server.crt", "server.key", "ca-chain.crt", "wif_token.txt"}


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def dockerfile_runtime_stage():
    """Instructions of the last stage as (KEYWORD, arguments), continuations joined."""
    with open(os.path.join(DOCKER, "Dockerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    instructions = [line.split(None, 1) for line in text.splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return [(keyword, args.strip()) for keyword, args in instructions[last_from:]]


def image_setting(keyword):
    values = [args for k, args in dockerfile_runtime_stage() if k == keyword]
    if len(values) != 1:
        raise AssertionError(f"expected one {keyword} in the runtime stage, got {values}")
    return values[0]


def image_env():
    return dict(re.findall(r"(\w+)=(\S+)", image_setting("ENV")))


def kubernetes_objects():
    objects = {}
    for path in sorted(glob.glob(os.path.join(KUBERNETES, "*.yaml"))):
        doc = load(path)
        objects[doc["kind"]] = doc
    return objects


class ImageExamples(unittest.TestCase):
    def test_every_example_is_valid_yaml(self):
        paths = glob.glob(os.path.join(DOCKER, "**", "*.y*ml"), recursive=True)
        self.assertGreaterEqual(len(paths), 7)
        for path in paths:
            with open(path) as f:
                self.assertTrue(list(yaml.safe_load_all(f)), path)

    def test_the_image_keeps_the_original_layout_and_opens_metrics_everywhere(self):
        env = image_env()
        self.assertEqual(env["WIF_HOME"], "/opt/wif-token-api")
        self.assertEqual(image_setting("WORKDIR"), env["WIF_HOME"])
        self.assertEqual(env["WIF_TOKEND_METRICS_LISTEN"], "0.0.0.0:9464")
        self.assertEqual(image_setting("EXPOSE").split(), ["7001", "9464"])
        self.assertRegex(image_setting("USER"), r"^[1-9]\d*:[1-9]\d*$")

    def test_the_health_check_asks_healthz_on_the_metrics_port(self):
        check = image_setting("HEALTHCHECK")
        port = image_env()["WIF_TOKEND_METRICS_LISTEN"].rsplit(":", 1)[1]
        self.assertIn(f"/dev/tcp/127.0.0.1/{port}", check)
        self.assertIn("GET /healthz ", check)


class KubernetesExample(unittest.TestCase):
    def setUp(self):
        self.objects = kubernetes_objects()
        self.deployment = self.objects["Deployment"]
        self.pod = self.deployment["spec"]["template"]["spec"]
        self.container = self.pod["containers"][0]

    def container_port(self, name):
        return next(p["containerPort"] for p in self.container["ports"] if p["name"] == name)

    def test_kustomization_lists_every_manifest(self):
        manifests = {os.path.basename(p) for p in glob.glob(os.path.join(KUBERNETES, "*.yaml"))}
        manifests.remove("kustomization.yaml")
        self.assertEqual(set(self.objects["Kustomization"]["resources"]), manifests)

    def test_the_pod_runs_as_the_images_user(self):
        uid, gid = (int(n) for n in image_setting("USER").split(":"))
        context = self.pod["securityContext"]
        self.assertIs(context["runAsNonRoot"], True)
        self.assertEqual((context["runAsUser"], context["runAsGroup"], context["fsGroup"]),
                         (uid, gid, gid))
        self.assertIs(self.container["securityContext"]["readOnlyRootFilesystem"], True)
        self.assertIs(self.container["securityContext"]["allowPrivilegeEscalation"], False)

    def test_the_probes_ask_the_metrics_listener(self):
        metrics_port = int(image_env()["WIF_TOKEND_METRICS_LISTEN"].rsplit(":", 1)[1])
        live = self.container["livenessProbe"]["httpGet"]
        ready = self.container["readinessProbe"]["httpGet"]
        self.assertEqual((live["path"], ready["path"]), ("/healthz", "/readyz"))
        self.assertEqual({live["port"], ready["port"]}, {"metrics"})
        self.assertEqual(self.container_port("metrics"), metrics_port)
        self.assertEqual(self.container_port("mtls"), 7001)

    def test_a_key_readable_through_fs_group_is_allowed_as_such(self):
        volume = next(v for v in self.pod["volumes"] if "projected" in v)
        self.assertTrue(volume["projected"]["defaultMode"] & 0o040)  # group-readable
        self.assertFalse(volume["projected"]["defaultMode"] & 0o004)  # but not by others
        env = {e["name"]: e["value"] for e in self.container.get("env", [])}
        self.assertEqual(env.get("WIF_TOKEND_KEY_READABLE_BY"), "group")

    def test_one_projected_volume_gives_the_original_layout_at_wif_home(self):
        mounts = self.container["volumeMounts"]
        self.assertEqual(len(mounts), 1)
        self.assertEqual(mounts[0]["mountPath"], image_env()["WIF_HOME"])
        self.assertIs(mounts[0]["readOnly"], True)

        volume = next(v for v in self.pod["volumes"] if v["name"] == mounts[0]["name"])
        files = set()
        for source in volume["projected"]["sources"]:
            if "secret" in source:
                self.assertEqual(source["secret"]["name"], self.objects["Secret"]["metadata"]["name"])
                files.update(item["path"] for item in source["secret"]["items"])
            else:
                files.add(source["serviceAccountToken"]["path"])
        self.assertEqual(files, ORIGINAL_LAYOUT)

    def test_the_secret_holds_the_tls_files_the_volume_projects(self):
        self.assertEqual(set(self.objects["Secret"]["stringData"]),
                         ORIGINAL_LAYOUT - {"wif_token.txt"})

    def test_the_pod_mounts_no_other_service_account_token(self):
        self.assertEqual(self.pod["serviceAccountName"],
                         self.objects["ServiceAccount"]["metadata"]["name"])
        self.assertIs(self.pod["automountServiceAccountToken"], False)

    def test_the_service_selects_the_pods_and_their_named_ports(self):
        service = self.objects["Service"]["spec"]
        labels = self.deployment["spec"]["template"]["metadata"]["labels"]
        self.assertTrue(service["selector"].items() <= labels.items())
        self.assertEqual(self.deployment["spec"]["selector"]["matchLabels"], service["selector"])
        self.assertEqual({p["targetPort"] for p in service["ports"]}, {"mtls", "metrics"})


class ComposeExample(unittest.TestCase):
    def setUp(self):
        self.services = load(os.path.join(DOCKER, "compose.yaml"))["services"]

    def test_prometheus_scrapes_the_daemon_service_on_the_metrics_port(self):
        metrics_port = image_env()["WIF_TOKEND_METRICS_LISTEN"].rsplit(":", 1)[1]
        config = load(os.path.join(DOCKER, "prometheus.yml"))
        targets = [t for job in config["scrape_configs"] for sc in job["static_configs"]
                   for t in sc["targets"]]
        self.assertEqual(targets, [f"wif-tokend:{metrics_port}"])
        self.assertIn("wif-tokend", self.services)

    def test_the_daemon_builds_from_the_dockerfile_and_mounts_wif_home_read_only(self):
        daemon = self.services["wif-tokend"]
        self.assertEqual(daemon["build"]["dockerfile"], "docker/Dockerfile")
        self.assertEqual(daemon["volumes"], [f"wif-home:{image_env()['WIF_HOME']}:ro"])

    def test_the_helpers_write_as_the_images_user(self):
        user = image_setting("USER")
        for name in ("token-writer", "client"):
            self.assertEqual(self.services[name]["user"], user, name)

    def test_host_ports_stay_on_loopback(self):
        for name, service in self.services.items():
            for port in service.get("ports", []):
                self.assertTrue(port.startswith("127.0.0.1:"), f"{name}: {port}")


if __name__ == "__main__":
    unittest.main()
