// Flag sets shared by the CLI's unit test (what it prints) and its real-Envoy test (that Envoy
// accepts what it prints), so both judge the same command line.
export const NODE_FLAGS = ['--node-id', 'vm-1', '--namespace', 'shop', '--service', 'web'] as const;
export const EXPLICIT_PORTS_AND_LABELS = [
  '--delta',
  '--outbound-port',
  '16001',
  '--inbound-port',
  '16006',
  '--admin-port',
  '16000',
  '--label',
  'app=web',
  '--label',
  'tier=',
] as const;
