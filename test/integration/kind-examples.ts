// A valid object of each built-in kind, shared by the tests that walk every kind (kinds-http, hostile
// requests). A kind without an example here fails kinds-http.test.ts.
import type { KubeObject } from '../../src/api/types.ts';

/** A valid object of each kind, by "<plural>.<group>" ("pods." for core). */
export const kindExamples: Record<string, (name: string) => KubeObject> = {
  'pods.': (name) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }),
  'namespaces.': (name) => ({ metadata: { name } }),
  'nodes.': (name) => ({ metadata: { name } }),
  'events.': (name) => ({ metadata: { name }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'kinds' }, reason: 'Tested', message: 'by kinds-http', type: 'Normal', source: { component: 'test' } }),
  'events.events.k8s.io': (name) => ({
    metadata: { name },
    eventTime: '2025-01-02T03:04:05.000000Z',
    regarding: { kind: 'Pod', name: 'p', namespace: 'kinds' },
    reason: 'Tested', note: 'by kinds-http', type: 'Normal', action: 'Testing',
    reportingController: 'tinykube.io/kinds-test', reportingInstance: 'kinds-test-1',
  }),
  'configmaps.': (name) => ({ metadata: { name }, data: { a: '1' } }),
  'secrets.': (name) => ({ metadata: { name }, data: { a: 'MQ==' } }),
  'serviceaccounts.': (name) => ({ metadata: { name } }),
  'services.': (name) => ({ metadata: { name }, spec: { selector: { app: 'kinds' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }),
  'leases.coordination.k8s.io': (name) => ({ metadata: { name }, spec: { holderIdentity: 'someone' } }),
  'priorityclasses.scheduling.k8s.io': (name) => ({ metadata: { name }, value: 10 }),
  'replicasets.apps': (name) => ({ metadata: { name }, spec: { replicas: 0, selector: { matchLabels: { app: 'kinds' } }, template: { metadata: { labels: { app: 'kinds' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }),
  'statefulsets.apps': (name) => ({ metadata: { name }, spec: { replicas: 0, serviceName: 'kinds', selector: { matchLabels: { app: 'kinds' } }, template: { metadata: { labels: { app: 'kinds' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }),
  'deployments.apps': (name) => ({ metadata: { name }, spec: { replicas: 0, selector: { matchLabels: { app: 'kinds' } }, template: { metadata: { labels: { app: 'kinds' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }),
  'replicationcontrollers.': (name) => ({ metadata: { name }, spec: { replicas: 0, template: { metadata: { labels: { app: 'kinds' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }),
  'podtemplates.': (name) => ({ metadata: { name }, template: { metadata: { labels: { app: 'kinds' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } }),
  'persistentvolumeclaims.': (name) => ({ metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }),
  'persistentvolumes.': (name) => ({ metadata: { name }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/kinds/${name}` } } }),
  'storageclasses.storage.k8s.io': (name) => ({ metadata: { name }, provisioner: 'example.com/kinds' }),
  'poddisruptionbudgets.policy': (name) => ({ metadata: { name }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'kinds' } } } }),
  'controllerrevisions.apps': (name) => ({ metadata: { name }, data: { spec: { template: { $patch: 'replace' } } }, revision: 1 }),
  'daemonsets.apps': (name) => ({ metadata: { name }, spec: { selector: { matchLabels: { app: 'ds' } }, template: { metadata: { labels: { app: 'ds' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }),
  'jobs.batch': (name) => ({ metadata: { name }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }),
  'cronjobs.batch': (name) => ({ metadata: { name }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } } }),
  'roles.rbac.authorization.k8s.io': (name) => ({ metadata: { name }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] }),
  'clusterroles.rbac.authorization.k8s.io': (name) => ({ metadata: { name }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { nonResourceURLs: ['/healthz'], verbs: ['get'] }] }),
  'rolebindings.rbac.authorization.k8s.io': (name) => ({ metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'jane' }] }),
  'clusterrolebindings.rbac.authorization.k8s.io': (name) => ({ metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', namespace: 'kinds', name: 'sa' }] }),
  'endpoints.': (name) => ({ metadata: { name }, subsets: [{ addresses: [{ ip: '10.244.0.5' }], ports: [{ port: 80 }] }] }),
  'endpointslices.discovery.k8s.io': (name) => ({ metadata: { name }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }], ports: [{ name: 'http', port: 80 }] }),
  'selfsubjectreviews.authentication.k8s.io': () => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
  'tokenreviews.authentication.k8s.io': () => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'not-a-token' } }),
  'subjectaccessreviews.authorization.k8s.io': () => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'jane', resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'kinds' } } }),
  'localsubjectaccessreviews.authorization.k8s.io': () => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', spec: { user: 'jane', resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'kinds' } } }),
  'selfsubjectaccessreviews.authorization.k8s.io': () => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { nonResourceAttributes: { verb: 'get', path: '/healthz' } } }),
  'selfsubjectrulesreviews.authorization.k8s.io': () => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'kinds' } }),
  // A CRD's name must be <plural>.<group>: the example's plural is derived from the name asked for.
  'customresourcedefinitions.apiextensions.k8s.io': (name) => {
    const plural = name.replace(/[^a-z0-9]/g, '') || 'things';
    return {
      metadata: { name: name.includes('/') ? name : `${plural}.kinds.example.com` },
      spec: {
        group: 'kinds.example.com',
        scope: 'Namespaced',
        names: { plural, kind: 'Thing' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    };
  },
};
