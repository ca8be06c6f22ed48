// A typed client of the clinic backend, as a customer's web or mobile app
// would write it: types from openapi-typescript, calls through openapi-fetch.
// `npm run check` type-checks it against the generated API.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Measurement = components["schemas"]["Measurement"];
type MeasurementData = components["schemas"]["MeasurementData"];

export async function recordReading(baseUrl: string, email: string, password: string): Promise<Measurement> {
  const api = createClient<paths>({ baseUrl });
  const login = await api.POST("/auth/login", { body: { email, password } });
  if (!login.data) {
    throw new Error(`login failed: ${login.error?.code}`);
  }
  const headers = { Authorization: `Bearer ${login.data.access_token}` };
  const reading: MeasurementData = {
    systolic: 128,
    diastolic: 84,
    taken_at: new Date().toISOString(),
    arm: "left",
    device: { serial: "BP-0042" },
  };
  const created = await api.POST("/data/measurement/documents", { headers, body: reading });
  if (!created.data) {
    throw new Error(`create failed: ${created.error?.code} ${created.error?.message}`);
  }
  const patched = await api.PATCH("/data/measurement/documents/{id}", {
    headers: { ...headers, "If-Match": String(created.data.version) },
    params: { path: { id: created.data.id } },
    body: { note: "after coffee" },
  });
  if (!patched.data) {
    throw new Error(`update failed: ${patched.error?.code}`);
  }
  // The list's query string is RQL (see x-rql in the OpenAPI document),
  // which openapi-fetch passes through a query serializer as is.
  const list = await api.GET("/data/measurement/documents", {
    headers,
    querySerializer: () => "and(gt(systolic,140),eq(device.serial,BP-0042))&sort(-taken_at)&limit(10)",
  });
  console.log(`${list.data?.page.total ?? 0} readings`);
  return patched.data;
}
