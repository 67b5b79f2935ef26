// Generated from content.proto by scripts/gen-grpc-descriptors.ts (see src/kubelet/cri/descriptors.ts):
// do not edit; change the .proto and run the script. descriptors.test.ts fails when the two differ.

export const CONTAINERD_CONTENT = {
  "nested": {
    "containerd": {
      "nested": {
        "services": {
          "nested": {
            "content": {
              "nested": {
                "v1": {
                  "nested": {
                    "Content": {
                      "methods": {
                        "ListStatuses": {
                          "requestType": "ListStatusesRequest",
                          "responseType": "ListStatusesResponse"
                        }
                      }
                    },
                    "Status": {
                      "fields": {
                        "ref": {
                          "type": "string",
                          "id": 3
                        },
                        "offset": {
                          "type": "int64",
                          "id": 4
                        },
                        "total": {
                          "type": "int64",
                          "id": 5
                        },
                        "expected": {
                          "type": "string",
                          "id": 6
                        }
                      }
                    },
                    "ListStatusesRequest": {
                      "fields": {
                        "filters": {
                          "rule": "repeated",
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "ListStatusesResponse": {
                      "fields": {
                        "statuses": {
                          "rule": "repeated",
                          "type": "Status",
                          "id": 1
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
};
