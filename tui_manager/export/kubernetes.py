"""Kubernetes: a Deployment per service, a Service where a probe names a port, probes mapped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config.config import Config
from ..config.spec import ProbeSpec as Probe
from .common import Export, comment_block, probe_target, yaml

IMAGE = "python:3.11-slim"


def k8s_name(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def k8s_probe(probe: Probe, initial: bool) -> dict[str, Any] | None:
    kind, _, port, path = probe_target(probe)
    body: dict[str, Any]
    if kind == "http":
        body = {"httpGet": {"path": path, "port": port}}
    elif kind == "tcp":
        body = {"tcpSocket": {"port": port}}
    elif kind == "exec":
        body = {"exec": {"command": ["/bin/sh", "-c", probe.exec or "true"]}}
    else:
        return None
    body["periodSeconds"] = max(1, int(probe.interval or (1 if initial else 5)))
    body["timeoutSeconds"] = max(1, int(probe.timeout))
    body["failureThreshold"] = probe.failures
    return body


def write(config: Config, out: Path) -> Export:
    result = Export()
    docs: list[dict[str, Any]] = []
    for name, svc in config.enabled().items():
        app = k8s_name(name)
        container: dict[str, Any] = {
            "name": app,
            "image": IMAGE,
            "command": config.argv(name),
            "workingDir": "/app",
            "env": [
                {"name": "PYTHONUNBUFFERED", "value": "1"},
                *({"name": k, "value": v} for k, v in svc.env.items()),
            ],
        }
        ports = sorted(
            {
                probe_target(p)[2]
                for p in (svc.ready, svc.health)
                if p is not None and probe_target(p)[2]
            }
        )
        if ports:
            container["ports"] = [{"containerPort": p} for p in ports]
        if svc.ready is not None and (rp := k8s_probe(svc.ready, True)):
            container["readinessProbe"] = rp
        if svc.health is not None and (lp := k8s_probe(svc.health, False)):
            container["livenessProbe"] = lp
        if svc.dependencies():
            result.warnings.append(
                f"{name}: depends_on is not a Kubernetes concept; rely on "
                "readiness probes and retries"
            )
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": app, "labels": {"app": app}},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": app}},
                    "template": {
                        "metadata": {"labels": {"app": app}},
                        "spec": {
                            "containers": [container],
                            "terminationGracePeriodSeconds": max(1, int(svc.stop_timeout)),
                        },
                    },
                },
            }
        )
        if ports:
            docs.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": app, "labels": {"app": app}},
                    "spec": {
                        "selector": {"app": app},
                        "ports": [{"name": f"p{p}", "port": p, "targetPort": p} for p in ports],
                    },
                }
            )
    result.warnings.append(f"containers use the image {IMAGE}: build one with your code in /app")
    text = comment_block(result.warnings) + "\n---\n".join(yaml(d) for d in docs) + "\n"
    path = out / "kubernetes.yaml"
    path.write_text(text)
    result.files.append(path)
    return result
