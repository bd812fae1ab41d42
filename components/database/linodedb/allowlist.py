"""Keeps a Linode managed PostgreSQL's allow-list equal to the public IPv4 addresses of the cluster's nodes,
each a /32, and the stack's client networks.

Pods leave an LKE node from the node's public address, and the database has public hosts only, so a node the
autoscaler adds can reach the database once its address is in the list, and the address of a node it removes
(which Linode may give to another customer) must leave the list. The node's public address is the ExternalIP
the Linode cloud controller records in its status.

Every INTERVAL_SECONDS: list the Nodes (the service account may do nothing else), read the database's
allow-list, and write it only when it differs. A cluster that reports no node with a public address leaves the
list as it is, rather than shut every node out. Each turn of the loop touches HEARTBEAT, which the liveness
probe watches. Standard library only; the image is pinned by digest.
"""
import ipaddress
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

# The pod's service account, and the file each turn touches; a test may point them elsewhere.
ACCOUNT = os.environ.get("SERVICE_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
HEARTBEAT = os.environ.get("HEARTBEAT_FILE", "/tmp/heartbeat")


def log(message):
    print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), message, flush=True)


def call(method, url, token, body=None, context=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": "Bearer " + token, "Accept": "application/json", "Content-Type": "application/json",
    })
    try:
        with urllib.request.urlopen(request, timeout=20, context=context) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise RuntimeError("%s %s: %s %s" % (method, url, error.code, error.read().decode(errors="replace")[:500]))


def node_addresses(kubernetes, context):
    with open(os.path.join(ACCOUNT, "token")) as f:  # re-read: the kubelet rotates it
        token = f.read().strip()
    nodes = call("GET", kubernetes + "/api/v1/nodes", token, context=context)
    addresses = set()
    for node in nodes.get("items", []):
        for address in node.get("status", {}).get("addresses", []):
            if address.get("type") != "ExternalIP":
                continue
            try:
                ip = ipaddress.ip_address(address.get("address", ""))
            except ValueError:
                continue
            if ip.version == 4 and ip.is_global:
                addresses.add("%s/32" % ip)
    return addresses


def reconcile(kubernetes, context, database, token, clients):
    nodes = node_addresses(kubernetes, context)
    if not nodes:
        log("no node reports a public IPv4 address; the allow-list is left as it is")
        return
    desired = sorted(nodes) + [c for c in clients if c not in nodes]
    current = call("GET", database, token).get("allow_list") or []
    if set(current) == set(desired):
        return
    call("PUT", database, token, {"allow_list": desired})
    log("allow-list now %s (added %s, removed %s)" % (
        ", ".join(desired), sorted(set(desired) - set(current)), sorted(set(current) - set(desired))))


def main():
    kubernetes = "https://%s:%s" % (os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"])
    context = ssl.create_default_context(cafile=os.path.join(ACCOUNT, "ca.crt"))
    database = os.environ.get("LINODE_API", "https://api.linode.com/v4") + \
        "/databases/postgresql/instances/" + os.environ["DATABASE_ID"]
    token = os.environ["LINODE_TOKEN"]
    clients = [c for c in os.environ.get("CLIENT_CIDRS", "").split(",") if c]
    interval = int(os.environ.get("INTERVAL_SECONDS", "30"))
    once = os.environ.get("ONCE") == "1"
    while True:
        try:
            reconcile(kubernetes, context, database, token, clients)
        except Exception as error:  # the next turn tries again; a stuck loop is the probe's to catch
            log("reconcile failed: %s" % error)
            if once:
                sys.exit(1)
        with open(HEARTBEAT, "w") as f:
            f.write(str(time.time()))
        if once:
            return
        time.sleep(interval)


if __name__ == "__main__":
    main()
