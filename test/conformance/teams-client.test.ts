/**
 * Conformance: the client-side Teams files of Appwrite 1.9.5 (`tests/e2e/Services/Teams/`). They run the
 * TeamsBase cases as a signed-in user (SideClient: an account session cookie) or on the console project; the
 * server-side translation of TeamsBase is in teams-server.test.ts. Every case here needs what appwrite-local
 * does not serve (sessions, e-mail invitations and their secrets, the console), so each is listed as skipped.
 */
import { installAssertionCounter, skipUpstream } from './harness.ts';

installAssertionCounter();

const SESSIONS =
  'account sessions (POST /account/sessions, session cookies) are not served: users reach appwrite-local only with a JWT';
const INVITES =
  'e-mail invitations (unconfirmed memberships, invite secrets, PATCH …/memberships/{id}/status, mail) are not served: API-key memberships are confirmed at once';
const CONSOLE =
  'the console project (root sessions, project settings such as memberships-privacy) is not served';

for (const [file, cases] of [
  [
    'TeamsBaseClient.php',
    [
      [116, 'testGetTeamMemberships', SESSIONS],
      [239, 'testGetTeamMembership', SESSIONS],
      [285, 'testCreateTeamMembership', INVITES],
      [436, 'testListTeamMemberships', SESSIONS],
      [472, 'testUpdateTeamMembership', INVITES],
      [644, 'testUpdateMembershipWithSession', SESSIONS],
      [713, 'testUpdateTeamMembershipRoles', SESSIONS],
      [785, 'testDeleteTeamMembership', SESSIONS],
    ],
  ],
  [
    'TeamsConsoleClientTest.php',
    [
      [14, 'TeamsBase and TeamsBaseClient on the console project', CONSOLE],
      [19, 'testConsoleMembershipPrivacyDefaults', CONSOLE],
      [78, 'testTeamCreateMembershipConsole', CONSOLE],
      [98, 'testTeamMembershipPerms', CONSOLE],
      [171, 'testUpdateTeamMembershipRoles', CONSOLE],
      [223, 'testDeleteTeamMembership', CONSOLE],
    ],
  ],
  [
    'TeamsCustomClientTest.php',
    [
      [14, 'TeamsBase as a signed-in user', SESSIONS],
      [19, 'testGetMembershipPrivacy', CONSOLE],
      [120, 'testTeamsInviteHTMLInjection', INVITES],
    ],
  ],
] as const) {
  for (const [line, title, reason] of cases) skipUpstream(`Teams/${file}:${line}`, title, reason);
}
