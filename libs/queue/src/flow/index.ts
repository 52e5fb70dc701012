export { chain, chord, dag, group, MAX_FLOW_STEPS, type FlowChain, type FlowDag, type FlowGroup, type FlowNode, type FlowStep } from './flow-spec';
export {
  decodeFlowEvent,
  FLOW_ENDED,
  Flows,
  type AddedFlow,
  type FlowAddOptions,
  type FlowEvent,
  type FlowPolicy,
  type FlowState,
  type FlowStatus,
  type FlowStepState,
  type FlowStepStatus,
  type FlowSummary,
  type FlowsOptions,
} from './flows';
export { flowKeys, MAX_FLOW_NAME_LENGTH, type FlowKeys } from './flow-keys';
export { moveFlowNotices, pruneFlowIndex, reconcileUnsettledFlows } from './flow-engine';
