// What `weftctl analyze` reports: stable codes (scripts and CI match on them, so a code's
// meaning never changes; retired codes are not reused), a severity that decides the exit
// status, and a fix hint per code.

export type Severity = 'Error' | 'Warning';

export interface CodeInfo {
  readonly code: string;
  /** Short kebab-case name, stable like the code. */
  readonly name: string;
  readonly severity: Severity;
  readonly fix: string;
}

export const CODES = {
  invalidObject: {
    code: 'WEFT0001',
    name: 'invalid-object',
    severity: 'Error',
    fix: 'Correct the named field; the API server and Weft reject this object as written.',
  },
  notAccepted: {
    code: 'WEFT0002',
    name: 'policy-not-accepted',
    severity: 'Error',
    fix: 'Correct the policy as the message says; until then Weft does not apply it.',
  },
  conflict: {
    code: 'WEFT0003',
    name: 'policy-conflict',
    severity: 'Error',
    fix: 'Keep one policy of this kind per target: delete or retarget the newer one (the older one wins).',
  },
  targetNotFound: {
    code: 'WEFT0004',
    name: 'target-not-found',
    severity: 'Error',
    fix: 'Create the missing Service in the policy’s namespace, or point the policy at an existing one.',
  },
  backendNoEndpoints: {
    code: 'WEFT0005',
    name: 'backend-no-ready-endpoints',
    severity: 'Error',
    fix: 'Scale up or fix the backend’s Pods (kubectl get endpointslices -l kubernetes.io/service-name=<backend>), or set its weight to 0.',
  },
  backendPortMismatch: {
    code: 'WEFT0006',
    name: 'backend-port-mismatch',
    severity: 'Error',
    fix: 'Give the backend Service the same HTTP port number as the root Service; a backend without it gets none of its weight on that port.',
  },
  strictUnmeshedCallers: {
    code: 'WEFT0007',
    name: 'strict-with-unmeshed-callers',
    severity: 'Warning',
    fix: 'Label the callers’ namespaces weft.dev/inject=enabled and restart their Pods, or use PERMISSIVE until they are meshed.',
  },
  podWithoutSidecar: {
    code: 'WEFT0008',
    name: 'pod-without-sidecar',
    severity: 'Warning',
    fix: 'Restart the workload so the webhook injects it: kubectl rollout restart deployment -n <namespace> <name>.',
  },
  sidecarNotLabelled: {
    code: 'WEFT0009',
    name: 'sidecar-in-unlabelled-namespace',
    severity: 'Warning',
    fix: 'Label the namespace weft.dev/inject=enabled again, or restart the workload to remove its sidecar.',
  },
  portProtocolUnknown: {
    code: 'WEFT0010',
    name: 'port-protocol-unspecified',
    severity: 'Warning',
    fix: 'Set appProtocol (http, http2, grpc or tcp) on the Service port, or name it with a protocol prefix (http-, grpc-, tcp-).',
  },
} as const satisfies Record<string, CodeInfo>;

export type CodeKey = keyof typeof CODES;

export interface Finding {
  readonly code: string;
  readonly name: string;
  readonly severity: Severity;
  /** `Kind namespace/name` (or `file#doc` for a document that did not parse). */
  readonly object: string;
  readonly message: string;
  readonly fix: string;
}

export function finding(key: CodeKey, object: string, message: string): Finding {
  const { code, name, severity, fix } = CODES[key];
  return { code, name, severity, object, message, fix };
}
