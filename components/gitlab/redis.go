package gitlab

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const redisPort = 6379

// helperUser runs the containers that need no privilege at all, above the range images use for their own.
const helperUser = 10001

// redisEndpoint is where GitLab finds Redis, in-cluster or external.
type redisEndpoint struct {
	host     pulumi.StringInput
	port     pulumi.IntInput
	password pulumi.StringInput // nil when the server needs none
	tls      bool
	// deployment is the in-cluster Redis, which the migrations wait for; nil for an external one.
	deployment *appsv1.Deployment
}

func externalRedis(r *Redis) redisEndpoint {
	return redisEndpoint{host: r.Host, port: r.Port, password: r.Password, tls: r.TLS}
}

// newInClusterRedis runs one Redis pod with a generated password, reachable only from GitLab's pods. It keeps
// nothing on disk: a restart loses queued jobs and cache, which suits development and not production.
func newInClusterRedis(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	image string, clients []string) (redisEndpoint, error) {
	objectName := name + "-redis"
	labels := toStringMap(standardLabels(name, RedisComponent))
	selector := toStringMap(selectorLabels(name, RedisComponent))
	metadata := func() *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: namespace, Labels: labels}
	}

	password, err := random.NewRandomPassword(ctx, objectName+"-password", &random.RandomPasswordArgs{
		Length: pulumi.Int(32), Special: pulumi.Bool(false),
	}, pulumi.Parent(parent))
	if err != nil {
		return redisEndpoint{}, err
	}
	secret, err := corev1.NewSecret(ctx, objectName, &corev1.SecretArgs{
		Metadata:   metadata(),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{"password": password.Result},
	}, pulumi.Parent(parent))
	if err != nil {
		return redisEndpoint{}, err
	}
	passwordFromSecret := &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
		Name: secret.Metadata.Name(), Key: pulumi.String("password"),
	}}
	deployment, err := appsv1.NewDeployment(ctx, objectName, &appsv1.DeploymentArgs{
		Metadata: metadata(),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: selector},
			Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					AutomountServiceAccountToken: pulumi.Bool(false),
					EnableServiceLinks:           pulumi.Bool(false),
					SecurityContext: &corev1.PodSecurityContextArgs{
						// Any user will do: the image's entrypoint only drops privileges when it has them, and /data is an
						// emptyDir owned by the fsGroup.
						RunAsNonRoot:   pulumi.Bool(true),
						RunAsUser:      pulumi.Int(helperUser),
						RunAsGroup:     pulumi.Int(helperUser),
						FsGroup:        pulumi.Int(helperUser),
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{&corev1.ContainerArgs{
						Name:            pulumi.String("redis"),
						Image:           pulumi.String(image),
						ImagePullPolicy: pulumi.String("Always"),
						// $(REDIS_PASSWORD) is expanded by the kubelet from the env below.
						Args: pulumi.ToStringArray([]string{"--requirepass", "$(REDIS_PASSWORD)", "--save", "", "--appendonly", "no"}),
						Env: corev1.EnvVarArray{
							&corev1.EnvVarArgs{Name: pulumi.String("REDIS_PASSWORD"), ValueFrom: passwordFromSecret},
							// redis-cli in the probe authenticates from this variable.
							&corev1.EnvVarArgs{Name: pulumi.String("REDISCLI_AUTH"), ValueFrom: passwordFromSecret},
						},
						Ports: corev1.ContainerPortArray{&corev1.ContainerPortArgs{
							Name: pulumi.String("redis"), ContainerPort: pulumi.Int(redisPort), Protocol: pulumi.String("TCP"),
						}},
						ReadinessProbe: &corev1.ProbeArgs{
							Exec:          &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"sh", "-c", "redis-cli ping | grep -q PONG"})},
							PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(5),
						},
						LivenessProbe: &corev1.ProbeArgs{
							TcpSocket:     &corev1.TCPSocketActionArgs{Port: pulumi.String("redis")},
							PeriodSeconds: pulumi.Int(20), TimeoutSeconds: pulumi.Int(5),
						},
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("1Gi"), "ephemeral-storage": pulumi.String("256Mi")},
							Limits:   pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("1Gi"), "ephemeral-storage": pulumi.String("2Gi")},
						},
						SecurityContext: &corev1.SecurityContextArgs{
							AllowPrivilegeEscalation: pulumi.Bool(false),
							ReadOnlyRootFilesystem:   pulumi.Bool(true),
							Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
						},
						VolumeMounts: corev1.VolumeMountArray{&corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/data")}},
					}},
					Volumes: corev1.VolumeArray{&corev1.VolumeArgs{Name: pulumi.String("data"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}}},
				},
			},
		},
	}, pulumi.Parent(parent), waitFor(supportWait))
	if err != nil {
		return redisEndpoint{}, err
	}
	service, err := corev1.NewService(ctx, objectName, &corev1.ServiceArgs{
		Metadata: metadata(),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: selector,
			Ports: corev1.ServicePortArray{&corev1.ServicePortArgs{
				Name: pulumi.String("redis"), Port: pulumi.Int(redisPort), TargetPort: pulumi.String("redis"), Protocol: pulumi.String("TCP"),
			}},
		},
	}, pulumi.Parent(parent), waitFor(supportWait)) // awaited until Redis is an endpoint
	if err != nil {
		return redisEndpoint{}, err
	}
	// Only GitLab's own pods (clients: its replicas, the migration Jobs', the backup's) may reach Redis, on its
	// port alone; Redis itself reaches nothing.
	_, err = networkingv1.NewNetworkPolicy(ctx, objectName, &networkingv1.NetworkPolicyArgs{
		Metadata: metadata(),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: selector},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
				From: redisPeers(name, clients),
				Ports: networkingv1.NetworkPolicyPortArray{&networkingv1.NetworkPolicyPortArgs{
					Port: pulumi.Int(redisPort), Protocol: pulumi.String("TCP"),
				}},
			}},
		},
	}, pulumi.Parent(parent))
	if err != nil {
		return redisEndpoint{}, err
	}
	host := pulumi.Sprintf("%s.%s.svc", service.Metadata.Name().Elem(), service.Metadata.Namespace().Elem())
	return redisEndpoint{host: host, port: pulumi.Int(redisPort), password: password.Result, deployment: deployment}, nil
}

// redisPeers admits the pods of each client component.
func redisPeers(name string, clients []string) networkingv1.NetworkPolicyPeerArray {
	peers := networkingv1.NetworkPolicyPeerArray{}
	for _, component := range clients {
		peers = append(peers, &networkingv1.NetworkPolicyPeerArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: toStringMap(selectorLabels(name, component))},
		})
	}
	return peers
}

// redisClients are the components whose pods load Rails, so talk to Redis.
func redisClients(args GitLabArgs) []string {
	clients := []string{WebserviceComponent, MigrationsComponent}
	if args.Backup != nil {
		clients = append(clients, BackupComponent)
	}
	return clients
}
