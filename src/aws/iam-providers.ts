/** IamPort methods for IAM OIDC identity providers. Imported only through `iam.ts`. */
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  type IAMClient,
  ListOpenIDConnectProvidersCommand,
  TagOpenIDConnectProviderCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
} from '@aws-sdk/client-iam';
import {
  callAws,
  callIgnoringMissing,
  callOrUndefined,
  fromTagList,
  requireArn,
  toTagList,
} from './iam-call.js';
import type { IamPort } from './ports.js';

type ProviderMethods = Pick<
  IamPort,
  | 'listOidcProviderArns'
  | 'getOidcProvider'
  | 'createOidcProvider'
  | 'addOidcClientId'
  | 'updateOidcThumbprints'
  | 'tagOidcProvider'
  | 'deleteOidcProvider'
>;

export function createProviderMethods(client: IAMClient): ProviderMethods {
  return {
    // ListOpenIDConnectProviders is not paginated: it returns every provider of the account.
    async listOidcProviderArns() {
      const out = await callAws('ListOpenIDConnectProviders', () =>
        client.send(new ListOpenIDConnectProvidersCommand({})),
      );
      return (out.OpenIDConnectProviderList ?? []).flatMap((p) => (p.Arn ? [p.Arn] : []));
    },

    async getOidcProvider(arn) {
      const out = await callOrUndefined('GetOpenIDConnectProvider', () =>
        client.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
      );
      if (!out) return undefined;
      return {
        arn,
        url: out.Url ?? '',
        clientIds: out.ClientIDList ?? [],
        thumbprints: out.ThumbprintList ?? [],
        tags: fromTagList(out.Tags),
      };
    },

    async createOidcProvider({ url, clientIds, thumbprints, tags }) {
      const out = await callAws('CreateOpenIDConnectProvider', () =>
        client.send(
          new CreateOpenIDConnectProviderCommand({
            Url: url,
            ClientIDList: clientIds,
            // Optional since 2023: AWS then relies on its own trusted CAs.
            ...(thumbprints.length ? { ThumbprintList: thumbprints } : {}),
            ...(Object.keys(tags).length ? { Tags: toTagList(tags) } : {}),
          }),
        ),
      );
      return requireArn('CreateOpenIDConnectProvider', out.OpenIDConnectProviderArn);
    },

    async addOidcClientId(arn, clientId) {
      await callAws('AddClientIDToOpenIDConnectProvider', () =>
        client.send(
          new AddClientIDToOpenIDConnectProviderCommand({
            OpenIDConnectProviderArn: arn,
            ClientID: clientId,
          }),
        ),
      );
    },

    async updateOidcThumbprints(arn, thumbprints) {
      await callAws('UpdateOpenIDConnectProviderThumbprint', () =>
        client.send(
          new UpdateOpenIDConnectProviderThumbprintCommand({
            OpenIDConnectProviderArn: arn,
            ThumbprintList: thumbprints,
          }),
        ),
      );
    },

    async tagOidcProvider(arn, tags) {
      await callAws('TagOpenIDConnectProvider', () =>
        client.send(
          new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, Tags: toTagList(tags) }),
        ),
      );
    },

    async deleteOidcProvider(arn) {
      await callIgnoringMissing('DeleteOpenIDConnectProvider', () =>
        client.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
      );
    },
  };
}
