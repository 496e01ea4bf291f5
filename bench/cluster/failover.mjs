export async function failoverCase() {}
