"""The official Kubernetes Python client (Debian's python3-kubernetes) driven against tinykube.

Called by test/integration/python-client.test.ts as
    python3 client.py KUBECONFIG OP ARGS...
Each OP prints its result as one JSON document on stdout (follow streams raw text, flushed), so the
test asserts in TypeScript. Nothing here decides pass or fail.
"""
import json
import sys
import time

from kubernetes import client, config, dynamic, watch
from kubernetes.stream import stream


def out(value):
    print(json.dumps(value), flush=True)


def run_exec(v1, name, ns, command, data, attach=False):
    """Runs command with stdin (str: WebSocket text frames, bytes: binary frames) and collects output."""
    kwargs = dict(stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
    if attach:
        resp = stream(v1.connect_get_namespaced_pod_attach, name, ns, **kwargs)
    else:
        resp = stream(v1.connect_get_namespaced_pod_exec, name, ns, command=command, **kwargs)
    resp.write_stdin(data)
    stdout, stderr = '', ''
    deadline = time.monotonic() + 20
    while resp.is_open() and time.monotonic() < deadline:
        resp.update(timeout=1)
        if resp.peek_stdout():
            stdout += resp.read_stdout()
        if resp.peek_stderr():
            stderr += resp.read_stderr()
    resp.close()
    return {'stdout': stdout, 'stderr': stderr}


def main():
    kubeconfig, op, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()
    if op == 'watch':
        # Watch.stream sends watch=True; timeout_seconds makes the server end the stream.
        (ns,) = args
        events = []
        for ev in watch.Watch().stream(v1.list_namespaced_config_map, ns, timeout_seconds=1):
            events.append({'type': ev['type'], 'name': ev['object'].metadata.name})
        out(events)
    elif op == 'log':
        # name ns container previous(0/1) timestamps(0/1)
        name, ns, container, previous, timestamps = args
        text = v1.read_namespaced_pod_log(name, ns, container=container, previous=previous == '1', timestamps=timestamps == '1')
        out(text)
    elif op == 'follow':
        name, ns = args
        resp = v1.read_namespaced_pod_log(name, ns, follow=True, _preload_content=False)
        for chunk in resp.stream(amt=None, decode_content=False):
            sys.stdout.write(chunk.decode())
            sys.stdout.flush()
    elif op == 'exec':
        name, ns, data, binary = args
        out(run_exec(v1, name, ns, ['sh', '-c', 'read x; echo got:$x'], data.encode() if binary == '1' else data))
    elif op == 'attach':
        name, ns, data = args
        out(run_exec(v1, name, ns, None, data, attach=True))
    elif op == 'apply':
        # Server-side apply with force_conflicts=True: the client sends force=True.
        name, ns, value = args
        dyn = dynamic.DynamicClient(client.ApiClient())
        cms = dyn.resources.get(api_version='v1', kind='ConfigMap')
        body = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': name, 'namespace': ns}, 'data': {'k': value}}
        # Client 22.6 sends an apply body only when it is already serialized (a dict is refused locally).
        got = dyn.server_side_apply(cms, body=json.dumps(body), name=name, namespace=ns, field_manager='python-test', force_conflicts=True)
        out(got.to_dict()['data'])
    elif op == 'secret':
        # stringData is write-only: the server moves it into data (base64), as kube-apiserver does.
        # data k1 and an empty k2; stringData k2 wins over data for the same key.
        name, ns, key, value = args
        body = client.V1Secret(metadata=client.V1ObjectMeta(name=name), data={'k1': 'djE=', key: ''}, string_data={key: value})
        created = v1.create_namespaced_secret(ns, body)
        read = v1.read_namespaced_secret(name, ns)
        out({'created': {'data': created.data, 'string_data': created.string_data}, 'read': {'data': read.data, 'string_data': read.string_data}})
    else:
        raise SystemExit('unknown op ' + op)


if __name__ == '__main__':
    main()
