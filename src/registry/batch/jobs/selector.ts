// The Job selector's description, as kube-apiserver's Job and CronJob tables give it for their SELECTOR column.

export const JOB_SELECTOR_DESCRIPTION =
  'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors';
