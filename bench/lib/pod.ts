// A realistic pod manifest, as a Deployment's pod template yields it before defaulting (~1.6 KB of
// JSON once the server has defaulted it): labels and annotations, one app container with ports,
// env, resources, probes and mounts, and two volumes.

export function benchPod(name: string, i = 0): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: `web-${i % 50}`, tier: 'frontend', 'pod-template-hash': '7d4b9c8f6d' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' },
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.local/team/web:1.4.2',
          imagePullPolicy: 'IfNotPresent',
          args: ['--port=8080', '--log-level=info'],
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'MODE', value: 'production' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds: 5, periodSeconds: 10 },
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
          volumeMounts: [{ name: 'cache', mountPath: '/cache' }, { name: 'config', mountPath: '/etc/web', readOnly: true }],
        },
      ],
      volumes: [{ name: 'cache', emptyDir: {} }, { name: 'config', configMap: { name: 'web-config' } }],
      terminationGracePeriodSeconds: 30,
    },
  };
}
