// The API server's proxy to node agents for pods/log, exec, attach and portforward.
export { AGENT_CLIENT_CN, createConnectHandler, PORT_FORWARD_PROTOCOL, PORT_FORWARD_TUNNEL_PROTOCOL, type ClosableConnectHandler, type ConnectHandlerOptions } from './handler.ts';
export { nodeAgentEndpoint, nodeObjectLocator, DEFAULT_AGENT_PORT, type AgentEndpoint, type AgentLocator } from './agent.ts';
export { checkLogsAvailable, logContainerName, streamContainerName } from './containers.ts';
