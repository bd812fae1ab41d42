// GitLab HA on a cluster you already have, from TypeScript: the same GitLab component the Go programs import,
// through the gitlab-ha component package (run `pulumi package add` first; see README.md). One Deployment
// per zone pinned to that zone's nodes, each zone's volume on that zone's NFS server, your PostgreSQL, and
// GitLab's objects and backups on your S3-compatible store.
import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import * as gitlabha from "@gitlab-ha/gitlab-ha";

const config = new pulumi.Config();

// Zones are the units of failure: each zone's nodes carry zoneLabel=<zone>, and its NFS server exports the
// file system every zone shares.
const zoneLabel = config.get("zoneLabel") ?? "topology.kubernetes.io/zone";
const nfsServers = config.requireObject<Record<string, string>>("nfsServers");
const zones: gitlabha.types.input.gitlab.ZoneArgs[] = Object.keys(nfsServers).sort().map(zone => ({
    name: zone,
    nodeSelector: { [zoneLabel]: zone },
    storage: { nfs: { server: nfsServers[zone], path: config.get("nfsPath") ?? "/" } },
}));

// A store S3 speaks to (MinIO, Ceph, Linode): a static key for GitLab's objects, one for the backups.
const store = config.requireObject<{ endpoint: string; region: string; buckets: Record<string, string>; backupBucket: string }>("objectStorage");
const connection = (prefix: string): gitlabha.types.input.gitlab.ObjectStoreConnectionArgs => ({
    endpoint: store.endpoint,
    region: store.region,
    pathStyle: true,
    accessKeyId: config.requireSecret(`${prefix}AccessKeyId`),
    secretAccessKey: config.requireSecret(`${prefix}SecretAccessKey`),
});

// The provider flows in through the component's options: its kubeconfig is a secret of the stack's.
const cluster = new kubernetes.Provider("cluster", {
    kubeconfig: config.requireSecret("kubeconfig"),
    enableServerSideApply: true,
});

const site = new gitlabha.gitlab.GitLab("gitlab", {
    externalURL: `https://${config.require("host")}`,
    zones,
    database: {
        host: config.require("databaseHost"),
        password: config.requireSecret("databasePassword"),
    },
    service: { type: "NodePort", nodePorts: { http: 30080, ssh: 30022 } },
    objectStorage: { connection: connection("objectStorage"), buckets: store.buckets },
    backup: { bucket: store.backupBucket, connection: connection("backup") },
}, { providers: { kubernetes: cluster } });

export const url = site.url;
export const sshHost = site.sshHost;
export const deployments = site.deployments;
export const rootPassword = site.rootPassword;
