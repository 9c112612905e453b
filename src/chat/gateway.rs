//! Discord, incoming over the gateway (serenity): for deployments without a
//! public HTTPS endpoint. Interactions arrive as gateway events; their data
//! has the same shape as on the HTTP endpoint, so both paths go through
//! [`crate::http::discord::dispatch`]: one implementation of each command.
//! The response goes back through serenity's HTTP client.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use serenity::all::{Context, EventHandler, GatewayIntents, Interaction, Ready};

use crate::app::App;
use crate::service::meetings::Actor;

pub struct Gateway {
    app: App,
    token: String,
    api_base: String,
    dev_guild: Option<String>,
}

/// The interaction's kind, data and actor, as the HTTP endpoint sees them.
pub fn event_to_parts(
    interaction: &Interaction,
) -> Option<(u8, Value, Actor, serenity::all::InteractionId, String)> {
    let roles = |member: Option<&serenity::all::Member>| -> Vec<String> {
        member
            .map(|m| m.roles.iter().map(|r| r.to_string()).collect())
            .unwrap_or_default()
    };
    let actor = |guild: Option<serenity::all::GuildId>,
                 user: &serenity::all::User,
                 channel: serenity::all::ChannelId,
                 platform_roles: Vec<String>| Actor {
        workspace: guild
            .map(|g| g.to_string())
            .unwrap_or_else(|| format!("dm-{}", user.id)),
        user: user.id.to_string(),
        channel: Some(channel.to_string()),
        platform_roles,
    };
    match interaction {
        Interaction::Command(c) => Some((
            2,
            serde_json::to_value(&c.data).ok()?,
            actor(
                c.guild_id,
                &c.user,
                c.channel_id,
                roles(c.member.as_deref()),
            ),
            c.id,
            c.token.clone(),
        )),
        Interaction::Autocomplete(c) => Some((
            4,
            serde_json::to_value(&c.data).ok()?,
            actor(
                c.guild_id,
                &c.user,
                c.channel_id,
                roles(c.member.as_deref()),
            ),
            c.id,
            c.token.clone(),
        )),
        Interaction::Component(c) => Some((
            3,
            serde_json::to_value(&c.data).ok()?,
            actor(c.guild_id, &c.user, c.channel_id, roles(c.member.as_ref())),
            c.id,
            c.token.clone(),
        )),
        _ => None,
    }
}

#[serenity::async_trait]
impl EventHandler for Gateway {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to the Discord gateway");
        let commands = crate::chat::discord::application_commands(&self.app.config.categories);
        let app_id = ready.application.id.to_string();
        match crate::chat::discord::register(
            &self.api_base,
            &self.token,
            &app_id,
            self.dev_guild.as_deref(),
            &commands,
        )
        .await
        {
            Ok(n) => {
                tracing::info!(count = n, guild = ?self.dev_guild, "registered slash commands")
            }
            Err(e) => tracing::error!(error = %e, "registering slash commands"),
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let Some((kind, data, actor, id, token)) = event_to_parts(&interaction) else {
            return;
        };
        let now = Utc::now();
        // A resumed gateway session may deliver an event again: commands and
        // presses act once (the key is the one the HTTP endpoint records, and
        // it commits with the command's first write).
        let key = format!("discord:{id}");
        if kind != 4 {
            match self.app.store.seen(&key, now.timestamp()).await {
                Ok(false) => {}
                Ok(true) => {
                    tracing::info!(interaction = %id, "ignoring a repeated Discord interaction");
                    return;
                }
                Err(e) => tracing::error!(error = %e, "looking up a Discord interaction"),
            }
        }
        let work = crate::http::discord::dispatch(&self.app, &actor, kind, &data, now);
        let response = if kind == 4 {
            work.await
        } else {
            crate::store::with_request_guard(key, now.timestamp(), work).await
        };
        if let Err(e) = ctx
            .http
            .create_interaction_response(id, &token, &response, Vec::new())
            .await
        {
            tracing::error!(error = %e, "answering a Discord interaction");
        }
    }
}

/// Connect shard `shard` of `shards` to the gateway and serve interactions
/// until `quit` turns true or the connection ends. Slash commands need no
/// privileged intent: GUILDS is enough. Run it under [`crate::leader::hold`]
/// so that one instance connects each shard.
/// The origin of `api_base` when it is not Discord's own (`http://127.0.0.1:9000`
/// for `http://127.0.0.1:9000/api/v10`): serenity's REST proxy.
pub fn proxy_origin(api_base: &str) -> Option<String> {
    let rest = api_base
        .strip_prefix("https://")
        .map(|r| ("https://", r))
        .or_else(|| api_base.strip_prefix("http://").map(|r| ("http://", r)))?;
    let host = rest.1.split('/').next().unwrap_or_default();
    if host.is_empty() || host == "discord.com" {
        return None;
    }
    Some(format!("{}{host}", rest.0))
}

pub async fn run(
    token: &str,
    app: App,
    shard: u32,
    shards: u32,
    mut quit: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let gateway = Gateway {
        token: token.to_string(),
        api_base: app.config.discord.api_base.clone(),
        dev_guild: app.config.discord.dev_guild.clone(),
        app,
    };
    let gateway_url = gateway.app.config.discord.gateway_url.clone();
    // REST (gateway discovery included) goes where `api_base` says: serenity
    // sends it to a proxy origin instead of discord.com when one is set.
    let mut http = serenity::http::HttpBuilder::new(token);
    if let Some(origin) = proxy_origin(&gateway.api_base) {
        http = http.proxy(origin);
    }
    let mut client =
        serenity::all::ClientBuilder::new_with_http(http.build(), GatewayIntents::GUILDS)
            .event_handler(gateway)
            .await?;
    if let Some(url) = gateway_url {
        *client.ws_url.lock().await = url;
    }
    let manager = Arc::clone(&client.shard_manager);
    let watcher = tokio::spawn(async move {
        let _ = quit.wait_for(|q| *q).await;
        manager.shutdown_all().await;
    });
    let result = client.start_shard(shard, shards).await;
    watcher.abort();
    result?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, EscalationCommand, MeetingCommand};
    use serde_json::json;

    /// An interaction as the gateway delivers it (the same JSON as the endpoint's).
    fn interaction(kind: u8, data: Value) -> Interaction {
        serde_json::from_value(json!({
            "id": "1100000000000000001", "application_id": "1100000000000000002", "type": kind,
            "data": data, "guild_id": "1100000000000000003", "channel_id": "1100000000000000004",
            "member": {
                "user": { "id": "1100000000000000005", "username": "ana", "discriminator": "0", "global_name": null, "avatar": null },
                "roles": [], "joined_at": "2026-01-01T00:00:00Z", "deaf": false, "mute": false, "flags": 0
            },
            "token": "tok", "version": 1, "locale": "en-GB", "app_permissions": "0", "entitlements": [],
            "authorizing_integration_owners": {}, "context": 0, "attachment_size_limit": 8388608
        }))
        .expect("a gateway interaction")
    }

    #[test]
    fn a_gateway_slash_command_maps_to_the_same_command_as_the_endpoint() {
        let i = interaction(
            2,
            json!({
                "id": "1100000000000000009", "name": "meeting", "type": 1,
                "options": [{ "type": 1, "name": "skip", "options": [{ "name": "id", "type": 4, "value": 3 }] }]
            }),
        );
        let (kind, data, actor, _, token) = event_to_parts(&i).expect("handled");
        assert_eq!((kind, token.as_str()), (2, "tok"));
        assert_eq!(actor.workspace, "1100000000000000003");
        assert_eq!(actor.user, "1100000000000000005");
        assert_eq!(actor.channel.as_deref(), Some("1100000000000000004"));
        let cmd = crate::http::discord::to_command(&data).unwrap();
        assert!(
            matches!(cmd, Command::Meeting(MeetingCommand::Skip { id: 3 })),
            "{cmd:?}"
        );
    }

    #[test]
    fn a_gateway_escalate_with_string_options_maps_too() {
        let i = interaction(
            2,
            json!({
                "id": "1100000000000000009", "name": "escalate", "type": 1,
                "options": [
                    { "name": "topic", "type": 3, "value": "security" },
                    { "name": "severity", "type": 3, "value": "critical" },
                    { "name": "summary", "type": 3, "value": "Key leaked" }
                ]
            }),
        );
        let (_, data, ..) = event_to_parts(&i).unwrap();
        let cmd = crate::http::discord::to_command(&data).unwrap();
        let Command::Escalation(EscalationCommand::Raise { topic, summary, .. }) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(
            (topic.as_str(), summary.as_str()),
            ("security", "Key leaked")
        );
    }
}
