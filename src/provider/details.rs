//! What the engine says about a cluster's containers and networks beyond
//! their identity: the facts `get clusters|nodes -o …` list (state, images,
//! addresses, runtime) and what `create`/`delete` need to know about a
//! cluster's own network (driver, labels, attached containers).

use std::collections::BTreeMap;

/// One container of a cluster (a node or the load balancer) as listed and
/// inspected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeDetails {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Docker's state: `running`, `exited`, `created`, `paused`,
    /// `restarting`, `removing` or `dead`.
    pub state: String,
    /// The image the container was created from (`Config.Image`).
    pub image: String,
    /// Networks the container is attached to, by name.
    pub networks: Vec<NetworkAttachment>,
    /// The OCI runtime Docker runs it with (`HostConfig.Runtime`).
    pub runtime: String,
    /// `HostConfig.AutoRemove` (`docker run --rm`): gone once stopped.
    pub auto_remove: bool,
}

/// A container's endpoint on one network; addresses are empty while the
/// container is stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkAttachment {
    pub network: String,
    pub ipv4: String,
    pub ipv6: String,
}

/// A Docker network as inspected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkInfo {
    pub id: String,
    pub name: String,
    /// `bridge`, `host`, `null`, `macvlan`, `overlay`, …
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    /// Names of the containers attached to it.
    pub containers: Vec<String>,
}
