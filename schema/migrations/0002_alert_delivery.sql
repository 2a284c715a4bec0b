CREATE TABLE `alert_digest` (
	`project_id` text PRIMARY KEY NOT NULL,
	`last_sent_at` text NOT NULL,
	`alert_id` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_throttle` (
	`bug_id` integer PRIMARY KEY NOT NULL,
	`last_alert_at` text NOT NULL,
	`occurrences_at_alert` integer NOT NULL,
	`alert_id` integer NOT NULL,
	`recurring_streak` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE `alert_outbox` ADD `claim_token` text;--> statement-breakpoint
ALTER TABLE `alert_outbox` ADD `payload` text;--> statement-breakpoint
ALTER TABLE `alert_outbox` ADD `delivered` text;--> statement-breakpoint
ALTER TABLE `alert_outbox` ADD `note` text;