//! The cluster's images inbox volume (see `provider::inbox`) on Docker.

use std::collections::HashMap;

use anyhow::anyhow;
use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::RemoveVolumeOptions;

use super::{daemon_message, is_not_found, Docker};
use crate::provider::{inbox, LABEL_CLUSTER, LABEL_CREATE_ID};

impl Docker {
    /// Create the cluster's inbox volume, labelled with the cluster and the
    /// create run. An existing volume of that name is kept as it is (Docker
    /// returns it): a concurrent create of the same name that loses the
    /// claim then finds it labelled with the winner's run and leaves it.
    pub async fn ensure_images_inbox(&self, cluster: &str, create_id: &str) -> anyhow::Result<()> {
        let labels = HashMap::from([
            (LABEL_CLUSTER.to_string(), cluster.to_string()),
            (LABEL_CREATE_ID.to_string(), create_id.to_string()),
        ]);
        self.api()
            .create_volume(VolumeCreateRequest {
                name: Some(inbox::volume_name(cluster)),
                labels: Some(labels),
                ..Default::default()
            })
            .await
            .map(|_| ())
            .map_err(|e| {
                anyhow!(
                    "failed to create the images volume {}: {}",
                    inbox::volume_name(cluster),
                    daemon_message(&e)
                )
            })
    }

    /// Remove the cluster's inbox volume: only when it is labelled with the
    /// cluster (and, given a create run, with that run). Gone is fine.
    pub async fn remove_images_inbox(
        &self,
        cluster: &str,
        create_id: Option<&str>,
    ) -> anyhow::Result<()> {
        let name = inbox::volume_name(cluster);
        let volume = match self.api().inspect_volume(&name).await {
            Ok(v) => v,
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => {
                return Err(anyhow!(
                    "failed to inspect the images volume {name}: {}",
                    daemon_message(&e)
                ))
            }
        };
        let ours = volume.labels.get(LABEL_CLUSTER).map(String::as_str) == Some(cluster)
            && create_id.is_none_or(|id| {
                volume.labels.get(LABEL_CREATE_ID).map(String::as_str) == Some(id)
            });
        if !ours {
            return Ok(());
        }
        match self
            .api()
            .remove_volume(&name, None::<RemoveVolumeOptions>)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            // In use: a node of a concurrent create of the same name (which
            // won the claim) mounts it; it goes with that cluster.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(()),
            Err(e) => Err(anyhow!(
                "failed to remove the images volume {name}: {}",
                daemon_message(&e)
            )),
        }
    }
}
